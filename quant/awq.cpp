#include "awq.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "block_grid.hpp"
#include "parallel.hpp"
#include "quant_blocks.hpp"

namespace vkq::quant {
namespace {

constexpr uint64_t kSliceRows = 64;

// The best clipped RTN of one 32-weight block x for the block's Gram block
// Gb: its GGUF bytes and dequantized weights.
template <class GBlock>
double clip_block(GgmlType type, const float* x, const GBlock& Gb, uint8_t* best_block, float* best_back,
                const Eigen::Matrix<double, kQK, 1>* lin = nullptr) {
  const uint32_t block_bytes = ggml_type_info(type).block_bytes;
  float clipped[kQK], back[kQK];
  uint8_t block[sizeof(BlockQ8_0)];
  Eigen::Matrix<double, kQK, 1> d;
  float mn = x[0], mx = x[0], amax = 0;
  for (uint32_t j = 0; j < kQK; ++j) {
    mn = std::min(mn, x[j]);
    mx = std::max(mx, x[j]);
    amax = std::max(amax, std::fabs(x[j]));
  }
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < kAwqClipRatios; ++i) {
    const float ratio = 1.0f - float(i) * kAwqClipStep;
    const float lo = type == GgmlType::Q4_1 ? mn * ratio : -amax * ratio;
    const float hi = type == GgmlType::Q4_1 ? mx * ratio : amax * ratio;
    for (uint32_t j = 0; j < kQK; ++j) clipped[j] = i == 0 ? x[j] : std::clamp(x[j], lo, hi);
    quantize_row(type, clipped, block, kQK);
    dequantize_row(type, block, back, kQK);
    for (uint32_t j = 0; j < kQK; ++j) d(j) = double(x[j]) - double(back[j]);
    const double e = d.dot(Gb * d) + (lin ? 2 * d.dot(*lin) : 0.0);
    if (e < best) {
      best = e;
      std::copy_n(back, kQK, best_back);
      std::copy_n(block, block_bytes, best_block);
    }
  }
  return best;
}

// Output error of RTN-quantizing rows [r0, r0 + n) of w * s (then / s).
double scaled_rtn_error(const AwqLinear& l, uint64_t cols, uint64_t r0, uint64_t n, std::span<const float> s,
                        const Eigen::MatrixXd& G) {
  std::vector<float> ws(cols), back(cols);
  std::vector<uint8_t> q(*ggml_row_bytes(l.type, cols));
  Eigen::MatrixXd d{Eigen::Index(n), Eigen::Index(cols)};
  for (uint64_t r = 0; r < n; ++r) {
    const float* w = l.w.data() + (r0 + r) * cols;
    for (uint64_t j = 0; j < cols; ++j) ws[j] = w[j] * s[j];
    quantize_row(l.type, ws.data(), q.data(), cols);
    dequantize_row(l.type, q.data(), back.data(), cols);
    for (uint64_t j = 0; j < cols; ++j) d(Eigen::Index(r), Eigen::Index(j)) = double(w[j]) - double(back[j] / s[j]);
  }
  return (d * G).cwiseProduct(d).sum();
}


double group_error(std::span<const AwqLinear> group, uint64_t cols, std::span<const float> s,
                   const Eigen::MatrixXd& G, unsigned threads) {
  // Work items: fixed row slices of each linear; summed in order afterwards.
  std::vector<std::pair<size_t, uint64_t>> items;
  for (size_t k = 0; k < group.size(); ++k)
    for (uint64_t r0 = 0; r0 < group[k].rows; r0 += kSliceRows) items.emplace_back(k, r0);
  std::vector<double> part(items.size());
  parallel_for(items.size(), threads, [&](size_t i) {
    const auto& [k, r0] = items[i];
    part[i] = scaled_rtn_error(group[k], cols, r0, std::min(kSliceRows, group[k].rows - r0), s, G);
  });
  double e = 0;
  for (const double v : part) e += v;
  return e;
}

}  // namespace

std::vector<float> awq_candidate_scales(std::span<const double> x_abs_mean, double alpha) {
  std::vector<double> sd(x_abs_mean.size());
  double mx = 0, mn = std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < sd.size(); ++j) {
    sd[j] = std::max(std::pow(x_abs_mean[j], alpha), 1e-4);
    mx = std::max(mx, sd[j]);
    mn = std::min(mn, sd[j]);
  }
  const double norm = std::sqrt(mx * mn);
  std::vector<float> s(sd.size());
  for (size_t j = 0; j < sd.size(); ++j) s[j] = float(sd[j] / norm);
  return s;
}

std::vector<float> awq_fake_quantize(const AwqLinear& l, uint64_t cols, std::span<const float> s) {
  std::vector<float> ws(cols), out(l.rows * cols);
  std::vector<uint8_t> q(*ggml_row_bytes(l.type, cols));
  for (uint64_t r = 0; r < l.rows; ++r) {
    const float* w = l.w.data() + r * cols;
    for (uint64_t j = 0; j < cols; ++j) ws[j] = w[j] * s[j];
    quantize_row(l.type, ws.data(), q.data(), cols);
    float* o = out.data() + r * cols;
    dequantize_row(l.type, q.data(), o, cols);
    for (uint64_t j = 0; j < cols; ++j) o[j] /= s[j];
  }
  return out;
}

AwqScales awq_search(std::span<const double> x_abs_mean, const std::function<double(std::span<const float>)>& error) {
  AwqScales best;
  best.error = std::numeric_limits<double>::infinity();
  for (int i = 0; i < kAwqAlphaGrid; ++i) {
    const double alpha = double(i) / kAwqAlphaGrid;
    auto s = awq_candidate_scales(x_abs_mean, alpha);
    const double e = error(s);
    if (i == 0) best.error_rtn = e;
    if (e < best.error) {
      best.error = e;
      best.alpha = alpha;
      best.s = std::move(s);
    }
  }
  return best;
}

AwqScales awq_search_scales(std::span<const AwqLinear> group, uint64_t cols, const Eigen::MatrixXd& G,
                            std::span<const double> x_abs_mean, unsigned threads) {
  if (x_abs_mean.size() != cols || uint64_t(G.rows()) != cols) throw std::invalid_argument("awq: bad shapes");
  for (const auto& l : group)
    if (!is_block_type(l.type) || l.w.size() != l.rows * cols || cols % kQK)
      throw std::invalid_argument("awq: bad linear");
  return awq_search(x_abs_mean, [&](std::span<const float> s) { return group_error(group, cols, s, G, threads); });
}

QuantizedMatrix awq_clip_quantize(GgmlType type, std::span<const float> w, uint64_t rows, uint64_t cols,
                                  const Eigen::MatrixXd& G, unsigned threads) {
  if (!is_block_type(type) || cols % kQK || w.size() != rows * cols || uint64_t(G.rows()) != cols)
    throw std::invalid_argument("awq_clip_quantize: bad shapes");
  const uint64_t nblocks = cols / kQK, row_bytes = *ggml_row_bytes(type, cols);
  const uint32_t block_bytes = ggml_type_info(type).block_bytes;
  QuantizedMatrix out{type, rows, cols, std::vector<uint8_t>(rows * row_bytes), std::vector<float>(rows * cols)};
  parallel_for((rows + kSliceRows - 1) / kSliceRows, threads, [&](size_t slice) {
    for (uint64_t r = slice * kSliceRows; r < std::min(rows, (slice + 1) * kSliceRows); ++r) {
      for (uint64_t b = 0; b < nblocks; ++b)
        clip_block(type, w.data() + r * cols + b * kQK,
                   G.block<kQK, kQK>(Eigen::Index(b * kQK), Eigen::Index(b * kQK)),
                   out.data.data() + r * row_bytes + b * block_bytes, out.weights.data() + r * cols + b * kQK);
      // Each block again, against the row's whole output error with the
      // other blocks as they are: blocks share inputs, so their errors add
      // up through G's off-diagonal blocks. Starting from whichever of
      // these choices and plain RTN is better for the row, so that the
      // row never ends worse than RTN.
      if (nblocks > 1) {
        uint8_t* qrow = out.data.data() + r * row_bytes;
        float* back = out.weights.data() + r * cols;
        const float* wr = w.data() + r * cols;
        Eigen::VectorXd d{Eigen::Index(cols)};
        auto row_error = [&](const float* b) {
          for (uint64_t j = 0; j < cols; ++j) d(Eigen::Index(j)) = double(wr[j]) - double(b[j]);
          return d.dot(G * d);
        };
        std::vector<uint8_t> rtn(row_bytes);
        std::vector<float> rtn_back(cols);
        quantize_row(type, wr, rtn.data(), cols);
        dequantize_row(type, rtn.data(), rtn_back.data(), cols);
        if (row_error(rtn_back.data()) < row_error(back)) {
          std::copy(rtn.begin(), rtn.end(), qrow);
          std::copy(rtn_back.begin(), rtn_back.end(), back);
        }
        for (int sweep = 0; sweep < kAwqClipSweeps; ++sweep)
          for (uint64_t b = 0; b < nblocks; ++b) {
            for (uint64_t j = 0; j < cols; ++j) d(Eigen::Index(j)) = double(wr[j]) - double(back[j]);
            d.segment(Eigen::Index(b * kQK), kQK).setZero();
            const Eigen::Matrix<double, kQK, 1> lin = G.middleRows(Eigen::Index(b * kQK), kQK) * d;
            clip_block(type, wr + b * kQK, G.block<kQK, kQK>(Eigen::Index(b * kQK), Eigen::Index(b * kQK)),
                       qrow + b * block_bytes, back + b * kQK, &lin);
          }
      }
    }
  });
  return out;
}

}  // namespace vkq::quant
