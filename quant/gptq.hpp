// GPTQ (Frantar et al., 2023) onto GGUF block grids. For W [rows][cols]
// (out x in) and H = 2 G / n from the layer's calibration inputs (gram.hpp):
//   - dead inputs (H_ii = 0): H_ii = 1 and the weight column is zeroed;
//   - damping: H += lambda * mean(diag H) * I, lambda = 1% by default,
//     raised tenfold (with a warning) until the Cholesky factorisation works;
//   - act-order (optional): columns processed by descending H_ii;
//   - U = the upper Cholesky factor of H^-1 (H^-1 = U^T U), fp64;
//   - columns in lazy batches of 128: each column is rounded onto its
//     block's grid, err = (w - q) / U_ii, the batch's later columns get
//     -= err * U_i,. at once, the columns after the batch once per batch
//     (one matrix product).
// Grids are the GGUF block's (block_grid.hpp), fixed when the block's first
// column is reached, from the block's 32 weights at that moment (error
// updates included; with act-order the block's columns outside the current
// batch get the batch's pending updates first). Blocks keep their natural
// order in both modes, so the output is a plain GGUF block layout with no
// permutation to store. Rows are independent given U: they run in fixed
// slices over threads, so results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "ggml_types.hpp"
#include "kernels.hpp"
#include "rtn.hpp"

namespace vkq::quant {

struct GptqOptions {
  GgmlType type = GgmlType::Q4_0;  // Q4_0, Q4_1 or Q8_0
  bool act_order = false;
  double damp = 0.01;              // lambda, a fraction of mean(diag H)
  uint32_t batch = 128;            // lazy batch width, a multiple of 32
  unsigned threads = 0;            // 0: all hardware threads
  const kernels::Table* kernels = nullptr;  // nullptr: the fastest this CPU runs (kernels.hpp)
};

struct GptqResult {
  QuantizedMatrix q;
  double damp = 0;        // the lambda that factorised
  std::string warning;    // set when the damping had to be raised
  double factor_seconds = 0, columns_seconds = 0;  // time in U = chol(H^-1) and in the column loop
};

// The upper Cholesky factor U of (H + lambda * mean(diag H) * I)^-1 for a
// symmetric H whose dead inputs are already set to 1. Raises lambda tenfold
// (up to 10^6 times) until H factorises; `damp` gets the lambda used.
Eigen::MatrixXd gptq_inverse_factor(const Eigen::MatrixXd& H, double& damp, unsigned threads = 0,
                                    const kernels::Table* k = nullptr);

// W: [rows][cols] row-major, cols a multiple of 32; H: cols x cols.
GptqResult gptq_quantize(std::span<const float> W, uint64_t rows, uint64_t cols, const Eigen::MatrixXd& H,
                         const GptqOptions& opts);

}  // namespace vkq::quant
