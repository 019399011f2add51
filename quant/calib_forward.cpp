#include "calib_forward.hpp"

#include <stdexcept>

#include "ops/llama_ops_ref.hpp"
#include "parallel.hpp"

namespace vkq::quant {
namespace {

constexpr size_t kTokenChunk = 256;

}  // namespace

CalibBatch::CalibBatch(const LlamaHParams& hp, const std::vector<std::vector<int32_t>>& windows, unsigned threads)
    : hp_(hp), n_windows_(uint32_t(windows.size())), threads_(threads) {
  if (windows.empty()) throw std::invalid_argument("CalibBatch: no windows");
  seq_len_ = uint32_t(windows[0].size());
  for (const auto& w : windows) {
    if (w.size() != seq_len_) throw std::invalid_argument("CalibBatch: windows of different lengths");
    tokens_.insert(tokens_.end(), w.begin(), w.end());
  }
}

std::vector<float> CalibBatch::embed(const TensorView& table) const {
  std::vector<float> x(tokens_.size() * table.cols);
  ops::embed_ref(table, tokens_, x);
  return x;
}

std::vector<float> CalibBatch::rmsnorm(std::span<const float> x, std::span<const float> weight) const {
  std::vector<float> out(x.size());
  ops::rmsnorm_ref(x, weight, hp_.rms_norm_eps, out);
  return out;
}

std::vector<float> CalibBatch::linear(const TensorView& w, std::span<const float> x) const {
  const size_t T = tokens_.size();
  if (x.size() != T * w.cols) throw std::invalid_argument("CalibBatch::linear: x is not [T][cols]");
  std::vector<float> y(T * w.rows);
  parallel_for((T + kTokenChunk - 1) / kTokenChunk, threads_, [&](size_t c) {
    const size_t t0 = c * kTokenChunk, n = std::min(kTokenChunk, T - t0);
    ops::linear_ref(w, x.subspan(t0 * w.cols, n * w.cols), std::span(y).subspan(t0 * w.rows, n * w.rows));
  });
  return y;
}

std::vector<float> CalibBatch::attention(std::vector<float> q, std::vector<float> k, std::span<const float> v,
                                         std::span<const float> rope_freqs) const {
  const size_t dim = hp_.embedding_length, kv = hp_.kv_dim(), L = seq_len_;
  const ops::AttentionShape shape{hp_.head_count, hp_.head_count_kv, hp_.head_dim()};
  std::vector<float> out(tokens_.size() * dim);
  parallel_for(n_windows_, threads_, [&](size_t w) {
    for (size_t t = 0; t < L; ++t) {
      const size_t row = w * L + t;
      ops::rope_ref(std::span(q).subspan(row * dim, dim), shape.head_dim, hp_.rope_dimension_count, uint32_t(t),
                    hp_.rope_freq_base, rope_freqs);
      ops::rope_ref(std::span(k).subspan(row * kv, kv), shape.head_dim, hp_.rope_dimension_count, uint32_t(t),
                    hp_.rope_freq_base, rope_freqs);
    }
    // The window's keys and values are its cache, rows 0 .. L-1.
    ops::attention_ref(shape, std::span<const float>(q).subspan(w * L * dim, L * dim), 0,
                       std::span<const float>(k).subspan(w * L * kv, L * kv), v.subspan(w * L * kv, L * kv),
                       std::span(out).subspan(w * L * dim, L * dim));
  });
  return out;
}

std::vector<float> CalibBatch::swiglu(std::span<const float> gate, std::span<const float> up) const {
  std::vector<float> out(gate.size());
  ops::swiglu_ref(gate, up, out);
  return out;
}

TensorView f32_view(const std::string& name, std::span<const float> w, uint64_t rows, uint64_t cols) {
  if (w.size() != rows * cols) throw std::invalid_argument("f32_view: size mismatch");
  return TensorView::make(name, GgmlType::F32, cols, rows, w.data());
}

}  // namespace vkq::quant
