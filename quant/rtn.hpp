// A weight matrix as the quantizer writes it, and round-to-nearest: every
// row through runtime/quant_blocks.hpp's quantize_row (ggml's reference
// quantizers, bit for bit). Also the output error of a quantized matrix on
// calibration inputs, from their Gram matrix (gram.hpp).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "ggml_types.hpp"

namespace vkq::quant {

// rows x cols weights (out x in) of one type: the GGUF bytes and what they
// dequantize to.
struct QuantizedMatrix {
  GgmlType type = GgmlType::F32;
  uint64_t rows = 0, cols = 0;
  std::vector<uint8_t> data;   // rows x ggml_row_bytes(type, cols)
  std::vector<float> weights;  // [rows][cols], dequantized
};

// w: [rows][cols] row-major; any supported type whose blocks divide cols.
QuantizedMatrix quantize_rtn(GgmlType type, std::span<const float> w, uint64_t rows, uint64_t cols);

// sum over calibration tokens of ||(A - B) x||^2 = sum_rows (a - b)^T G (a - b)
// for two [rows][cols] matrices and the inputs' Gram matrix G (cols x cols).
double output_sse(const Eigen::MatrixXd& G, std::span<const float> a, std::span<const float> b, uint64_t rows,
                  uint64_t cols);

}  // namespace vkq::quant
