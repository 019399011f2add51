#include "gptq.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include "block_grid.hpp"
#include "kernels.hpp"
#include "parallel.hpp"

namespace vkq::quant {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr uint64_t kSliceRows = 256;  // rows per work item: fixed, so results do not depend on threads
constexpr uint64_t kInversePanel = 128;  // columns of U per work item

}  // namespace

MatrixXd gptq_inverse_factor(const MatrixXd& H, double& damp, unsigned threads, const kernels::Table* kt) {
  const auto& k = kt ? *kt : kernels::table();
  const uint64_t n = uint64_t(H.rows());
  const double mean_diag = H.diagonal().mean();
  const double scale = mean_diag > 0 && std::isfinite(mean_diag) ? mean_diag : 1.0;
  MatrixXd R(H.rows(), H.cols());
  for (int attempt = 0; attempt < 7; ++attempt, damp = damp > 0 ? damp * 10 : 0.01) {
    // H = R R^T with R upper triangular; then H^-1 = R^-T R^-1 = U^T U with
    // U = R^-1 upper triangular, positive diagonal: the upper Cholesky
    // factor of H^-1, without forming H^-1.
    if (!k.reversed_cholesky(H.data(), n, damp * scale, R.data())) continue;
    MatrixXd U(H.rows(), H.cols());
    const uint64_t panels = (n + kInversePanel - 1) / kInversePanel;
    parallel_for(panels, threads, [&](size_t i) {
      const uint64_t p = panels - 1 - i;  // the big ones first
      k.upper_inverse_cols(R.data(), n, p * kInversePanel, std::min(kInversePanel, n - p * kInversePanel), U.data());
    });
    if (U.allFinite() && (U.diagonal().array() > 0).all()) return U;
  }
  throw std::runtime_error("gptq: the Hessian does not factorise even with damping raised to 10^4 x mean(diag H)");
}

GptqResult gptq_quantize(std::span<const float> W, uint64_t rows, uint64_t cols, const MatrixXd& H,
                         const GptqOptions& o) {
  if (!is_block_type(o.type)) throw std::invalid_argument("gptq: the type must be Q4_0, Q4_1 or Q8_0");
  if (cols % kQK || W.size() != rows * cols || uint64_t(H.rows()) != cols || uint64_t(H.cols()) != cols)
    throw std::invalid_argument("gptq: bad shapes");
  if (o.batch == 0 || o.batch % kQK) throw std::invalid_argument("gptq: the batch must be a multiple of 32");

  MatrixXd h = H;
  std::vector<bool> dead(cols, false);
  for (uint64_t i = 0; i < cols; ++i)
    if (h(Index(i), Index(i)) == 0) {
      dead[i] = true;
      h(Index(i), Index(i)) = 1;
    }
  std::vector<uint32_t> perm(cols);
  std::iota(perm.begin(), perm.end(), 0u);
  if (o.act_order)
    std::stable_sort(perm.begin(), perm.end(),
                     [&](uint32_t a, uint32_t b) { return h(Index(a), Index(a)) > h(Index(b), Index(b)); });
  std::vector<uint32_t> pos_of(cols);
  for (uint64_t p = 0; p < cols; ++p) pos_of[perm[p]] = uint32_t(p);
  MatrixXd hp = h;
  if (o.act_order)
    for (uint64_t j = 0; j < cols; ++j)
      for (uint64_t i = 0; i < cols; ++i) hp(Index(i), Index(j)) = h(Index(perm[i]), Index(perm[j]));

  GptqResult res;
  res.damp = o.damp;
  const auto t0 = std::chrono::steady_clock::now();
  const MatrixXd U = gptq_inverse_factor(hp, res.damp, o.threads, o.kernels);
  const auto t1 = std::chrono::steady_clock::now();
  res.factor_seconds = std::chrono::duration<double>(t1 - t0).count();
  if (res.damp != o.damp)
    res.warning = fmt::format("the Hessian did not factorise with {:g}% damping; used {:g}%", o.damp * 100,
                              res.damp * 100);

  const uint64_t row_bytes = *ggml_row_bytes(o.type, cols);
  res.q = {o.type, rows, cols, std::vector<uint8_t>(rows * row_bytes), std::vector<float>(rows * cols)};
  const uint64_t slices = (rows + kSliceRows - 1) / kSliceRows;
  std::vector<uint8_t> dead8(dead.begin(), dead.end());
  const auto& k = o.kernels ? *o.kernels : kernels::table();
  parallel_for(slices, o.threads, [&](size_t sl) {
    kernels::GptqSlice a;
    a.W = W.data();
    a.cols = cols;
    a.r0 = sl * kSliceRows;
    a.nr = std::min(kSliceRows, rows - a.r0);
    a.perm = perm.data();
    a.pos_of = pos_of.data();
    a.dead = dead8.data();
    a.U = U.data();
    a.type = o.type;
    a.batch = o.batch;
    a.block_bytes = ggml_type_info(o.type).block_bytes;
    a.out = res.q.data.data();
    a.row_bytes = row_bytes;
    a.deq = res.q.weights.data();
    std::vector<BlockGrid> grid(a.nr * (cols / kQK));
    std::vector<int> code(a.nr * cols);
    std::vector<uint8_t> have(cols / kQK);
    a.grid = grid.data();
    a.code = code.data();
    a.have_grid = have.data();
    k.gptq_slice(a);
  });
  res.columns_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return res;
}

}  // namespace vkq::quant
