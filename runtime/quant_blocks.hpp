// Row quantization and dequantization for the GGUF block types vkq runs:
// F32, F16, BF16, Q8_0, Q4_0, Q4_1 (llama.cpp's reference RTN rounding, so
// files written here match ggml's quantize_row_*_ref bit for bit).
#pragma once

#include <cstddef>

#include "ggml_types.hpp"

namespace vkq {

// x[n] -> blocks (ggml_row_bytes(t, n) bytes). n must be a multiple of the
// block size for block types; throws InputError otherwise.
void quantize_row(GgmlType t, const float* x, void* blocks, size_t n);
// blocks -> y[n].
void dequantize_row(GgmlType t, const void* blocks, float* y, size_t n);

}  // namespace vkq
