#include "gram.hpp"

#include <cmath>

#include "kernels.hpp"
#include "parallel.hpp"

namespace vkq::quant {

Gram::Gram(size_t dim) : dim_(dim), lower_(Eigen::MatrixXd::Zero(Eigen::Index(dim), Eigen::Index(dim))), abs_sum_(dim) {}

void Gram::add(const float* x, size_t n, unsigned threads, const kernels::Table* kt) {
  const auto& k = kt ? *kt : kernels::table();
  const size_t panels = (dim_ + kPanel - 1) / kPanel;
  // Panel p holds columns [c0, c0 + kPanel) of the lower triangle, rows c0
  // .. dim - 1; later panels are smaller, so handing them out in order
  // balances the threads.
  parallel_for(panels, threads, [&](size_t p) {
    const size_t c0 = p * kPanel;
    k.gram_panel(x, n, dim_, c0, std::min(kPanel, dim_ - c0), kChunk, lower_.data());
  });
  for (size_t t = 0; t < n; ++t)
    for (size_t j = 0; j < dim_; ++j) abs_sum_[j] += std::fabs(double(x[t * dim_ + j]));
  n_ += n;
}

Eigen::MatrixXd Gram::sum() const {
  Eigen::MatrixXd g = lower_.triangularView<Eigen::Lower>();
  g.triangularView<Eigen::StrictlyUpper>() = lower_.transpose();
  return g;
}

Eigen::MatrixXd Gram::hessian() const { return n_ ? Eigen::MatrixXd(sum() * (2.0 / double(n_))) : sum(); }

std::vector<double> Gram::abs_mean() const {
  std::vector<double> m(abs_sum_);
  for (auto& v : m) v = n_ ? v / double(n_) : 0.0;
  return m;
}

}  // namespace vkq::quant
