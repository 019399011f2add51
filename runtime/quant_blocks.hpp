// Row conversion between float and the GGUF weight types vkq supports, bit
// for bit as ggml's reference code (quantize_row_*_ref / dequantize_row_*):
//   F32   copy
//   F16   IEEE half, round to nearest even
//   BF16  bfloat16, round to nearest even
//   Q8_0  per 32: d = amax / 127, q = roundf(x / d)                 (w = d * q)
//   Q4_0  per 32: d = v / -8 where v is the element of largest magnitude,
//         q = min(15, trunc(x / d + 8.5))                           (w = d * (q - 8))
//   Q4_1  per 32: d = (max - min) / 15, m = min,
//         q = min(15, trunc((x - min) / d + 0.5))                   (w = d * q + m)
// d and m are stored as fp16; quantization divides by the fp32 d as ggml does.
// Block layouts are in ggml_types.hpp. The RTN quantizer and the kernels'
// CPU references use these.
#pragma once

#include <cstddef>

#include "ggml_types.hpp"

namespace vkq {

// `n` weights from x into `out` (ggml_row_bytes(type, n) bytes). n must be a
// multiple of the type's block size; other types throw std::invalid_argument.
void quantize_row(GgmlType type, const float* x, void* out, size_t n);
void dequantize_row(GgmlType type, const void* in, float* y, size_t n);

}  // namespace vkq
