// Second moments of a linear layer's calibration inputs: G = sum_t x_t x_t^T
// (fp64, from fp32 inputs) and sum_t |x_t| per channel. GPTQ's Hessian is
// H = 2 G / n; AWQ's activation statistic is mean |x|; every output error
// on the calibration data is a quadratic form in G:
//   sum_t ||(W - Q) x_t||^2 = sum_rows (w - q)^T G (w - q).
//
// Inputs are added in fixed chunks of kChunk tokens, each chunk's product
// computed in fp32 (Eigen GEMM, column panels spread over threads) and added
// to the fp64 sum, so precision does not fall with the token count and the
// result does not depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "kernels.hpp"

namespace vkq::quant {

class Gram {
 public:
  static constexpr size_t kChunk = 1024;  // tokens per fp32 product
  static constexpr size_t kPanel = 256;   // columns per parallel work item

  explicit Gram(size_t dim);

  // x: [n][dim] row-major. k: the kernels (nullptr: the fastest this CPU runs).
  void add(const float* x, size_t n, unsigned threads = 0, const kernels::Table* k = nullptr);

  size_t dim() const { return dim_; }
  uint64_t count() const { return n_; }
  Eigen::MatrixXd sum() const;                 // G, symmetric
  Eigen::MatrixXd hessian() const;             // 2 G / n (GPTQ's H)
  std::vector<double> abs_mean() const;        // mean |x| per channel

 private:
  size_t dim_;
  uint64_t n_ = 0;
  Eigen::MatrixXd lower_;  // the lower triangle of G (the upper part is left undefined)
  std::vector<double> abs_sum_;
};

}  // namespace vkq::quant
