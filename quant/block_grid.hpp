// The quantization grid of one 32-weight GGUF block (Q4_0, Q4_1, Q8_0),
// computed from the block's weights exactly as ggml's reference quantizer
// (runtime/quant_blocks.hpp) does, and single weights rounded onto it. RTN is
// "grid from the block, every weight rounded"; GPTQ fixes a block's grid when
// it reaches the block's first column and rounds each weight as it comes;
// AWQ's clipping search rounds clipped copies. pack_block() writes the GGUF
// block, so all three produce plain GGUF bytes:
//   block_grid + quantize_value for all 32 + pack_block == quantize_row.
#pragma once

#include <cstdint>

#include "ggml_types.hpp"

namespace vkq::quant {

// The block types the quantizer writes.
bool is_block_type(GgmlType t);  // Q4_0, Q4_1, Q8_0

struct BlockGrid {
  float id = 0;               // 1 / d in fp32 (0 when d is 0): quantization multiplies by it, as ggml does
  float min = 0;              // Q4_1: the fp32 minimum that quantization subtracts
  uint16_t d16 = 0, m16 = 0;  // scale (and Q4_1 minimum) as stored
  float d = 0, m = 0;         // d16, m16 as floats: what dequantization uses
};

// The grid ggml computes for the 32 weights at x:
//   Q4_0: d = v / -8 for the element v of largest magnitude (the first one on ties)
//   Q4_1: d = (max - min) / 15, m = min
//   Q8_0: d = max |x| / 127
BlockGrid block_grid(GgmlType t, const float* x);

// The integer code of x on the grid, as ggml rounds (clamped where a weight
// lies outside the range the grid was made for, which GPTQ's updates cause):
//   Q4_0: min(15, trunc(x * id + 8.5)) clamped to 0..15
//   Q4_1: min(15, trunc((x - min) * id + 0.5)) clamped to 0..15
//   Q8_0: roundf(x * id) clamped to -128..127
int quantize_value(GgmlType t, const BlockGrid& g, float x);
// The weight a code stands for: Q4_0 d * (q - 8), Q4_1 d * q + m, Q8_0 d * q.
float dequantize_value(GgmlType t, const BlockGrid& g, int q);

// The GGUF block (ggml_types.hpp layouts) for a grid and 32 codes.
void pack_block(GgmlType t, const BlockGrid& g, const int* q, uint8_t* out);

}  // namespace vkq::quant
