// AWQ (Lin et al., 2023) onto GGUF block grids, in two steps per group of
// linears that share an input x (q/k/v after the attention norm, gate/up
// after the FFN norm, o after v, down after up):
//   1. Scales. s_j = max(mean|x_j|^alpha, 1e-4), normalised by
//      sqrt(max(s) min(s)), alpha on the grid 0, 1/20, ..., 19/20; the alpha
//      whose RTN-quantized Q(W diag(s)) diag(1/s) gives the smallest output
//      error over the group on the calibration inputs wins (alpha = 0 is
//      s = 1: plain RTN, so the search never does worse than RTN on its own
//      objective). The caller folds 1/s into the op before (a norm weight,
//      or the rows of v or up) and s into the weights' columns: the file
//      stays a standard GGUF.
//   2. Clipping. Per 32-weight block, the weights clipped to a ratio
//      r = 1, 0.975, ..., 0.525 of their range (+-r max|w|; Q4_1:
//      [r min, r max]), the r with the smallest output error wins; the
//      block is then ggml's RTN of the clipped weights. The published code
//      scores each block on its own (the block's 32 x 32 part of G); vkq
//      starts there, then revisits every block (3 sweeps) scoring the
//      row's whole output error with the other blocks as they stand,
//      since blocks share inputs and their errors add up through G's
//      off-diagonal blocks. On stories260K this took AWQ Q4_0's mean KLD
//      from 0.78x to 0.64x of RTN's (quant/RESULTS.md).
// Output errors come from the inputs' Gram matrix G (gram.hpp), exactly:
// sum_t ||(W - Q) x_t||^2 = sum_rows (w - q)^T G (w - q).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include <Eigen/Dense>

#include "ggml_types.hpp"
#include "rtn.hpp"

namespace vkq::quant {

struct AwqLinear {
  std::span<const float> w;  // [rows][cols] row-major
  uint64_t rows = 0;
  GgmlType type = GgmlType::Q4_0;  // the block type this linear will be written in
};

struct AwqScales {
  std::vector<float> s;   // per input channel
  double alpha = 0;
  double error = 0;       // the group's output error (sum of squares) with these scales, RTN
  double error_rtn = 0;   // the same with s = 1
};

constexpr int kAwqAlphaGrid = 20;
constexpr int kAwqClipRatios = 20;        // clip ratios 1 - i * step, i < 20 ...
constexpr float kAwqClipStep = 0.025f;    // ... down to 0.525: up to 50% in 20 steps
constexpr int kAwqClipSweeps = 3;         // row-exact passes over the blocks after the first choice

// The scales for one alpha: s_j = max(m_j^alpha, 1e-4) / sqrt(max(s) min(s)), m = mean |x|.
std::vector<float> awq_candidate_scales(std::span<const double> x_abs_mean, double alpha);
// Q(W diag(s)) diag(1/s) with RTN: what the linear computes on unscaled inputs. [rows][cols]
std::vector<float> awq_fake_quantize(const AwqLinear& l, uint64_t cols, std::span<const float> s);
// The alpha grid under any objective: error(s) for each candidate; the smallest wins.
AwqScales awq_search(std::span<const double> x_abs_mean, const std::function<double(std::span<const float>)>& error);

// The search with the group's own outputs as the objective, from the Gram
// matrix. x_abs_mean: mean |x| per input channel; G: sum x x^T over the same inputs.
AwqScales awq_search_scales(std::span<const AwqLinear> group, uint64_t cols, const Eigen::MatrixXd& G,
                            std::span<const double> x_abs_mean, unsigned threads = 0);

// w: the (already scaled) weights; G: the Gram matrix of the (already
// scaled) inputs. The GGUF bytes and dequantized weights.
QuantizedMatrix awq_clip_quantize(GgmlType type, std::span<const float> w, uint64_t rows, uint64_t cols,
                                  const Eigen::MatrixXd& G, unsigned threads = 0);

}  // namespace vkq::quant
