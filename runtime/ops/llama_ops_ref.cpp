#include "ops/llama_ops_ref.hpp"

#include "ops/matmul.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq::ops {
namespace {

void check(bool ok, const char* op, const char* what) {
  if (!ok) throw InputError(fmt::format("{}: {}", op, what));
}

}  // namespace

void embed_ref(const TensorView& table, std::span<const int32_t> tokens, std::span<float> out) {
  check(out.size() == tokens.size() * table.cols, "embed_ref", "out is not [tokens][cols]");
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t] < 0 || uint64_t(tokens[t]) >= table.rows)
      throw InputError(fmt::format("token id {} is outside the vocabulary of {} tokens ({})", tokens[t], table.rows,
                                   table.name));
    table.dequantize_row(uint64_t(tokens[t]), out.data() + t * table.cols);
  }
}

void rmsnorm_ref(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out) {
  const size_t w = weight.size();
  check(w > 0 && x.size() % w == 0 && out.size() == x.size(), "rmsnorm_ref", "x and out are not [n][weight.size()]");
  for (size_t r = 0; r < x.size() / w; ++r) {
    const float* xr = x.data() + r * w;
    double ss = 0;
    for (size_t i = 0; i < w; ++i) ss += double(xr[i]) * double(xr[i]);
    const double scale = 1.0 / std::sqrt(ss / double(w) + double(eps));
    float* o = out.data() + r * w;
    for (size_t i = 0; i < w; ++i) o[i] = static_cast<float>(double(xr[i]) * scale * double(weight[i]));
  }
}

void linear_ref(const TensorView& w, std::span<const float> x, std::span<float> y) {
  check(w.cols > 0 && x.size() % w.cols == 0, "linear_ref", "x is not [n][cols]");
  const size_t n = x.size() / w.cols;
  check(y.size() == n * w.rows, "linear_ref", "y is not [n][rows]");
  // The same fp64-accumulating reference the GPU matmul kernels are tested against.
  matmul_ref(w.type, w.data, static_cast<uint32_t>(w.rows), static_cast<uint32_t>(w.cols), x.data(),
             static_cast<uint32_t>(n), static_cast<uint32_t>(w.cols), y.data());
}

void rope_ref(std::span<float> x, uint32_t head_dim, uint32_t rope_dims, uint32_t pos, float base,
              std::span<const float> freq_factors) {
  check(head_dim > 0 && x.size() % head_dim == 0, "rope_ref", "x is not [heads][head_dim]");
  check(rope_dims % 2 == 0 && rope_dims <= head_dim, "rope_ref", "rope_dims must be even and at most head_dim");
  check(freq_factors.empty() || freq_factors.size() >= rope_dims / 2, "rope_ref", "fewer freq_factors than pairs");
  for (size_t h = 0; h < x.size() / head_dim; ++h) {
    float* xh = x.data() + h * head_dim;
    for (uint32_t i = 0; i < rope_dims; i += 2) {
      double theta = double(pos) * std::pow(double(base), -double(i) / double(rope_dims));
      if (!freq_factors.empty()) theta /= double(freq_factors[i / 2]);
      const double c = std::cos(theta), s = std::sin(theta);
      const double x0 = xh[i], x1 = xh[i + 1];
      xh[i] = static_cast<float>(x0 * c - x1 * s);
      xh[i + 1] = static_cast<float>(x0 * s + x1 * c);
    }
  }
}

void attention_ref(const AttentionShape& shape, std::span<const float> q, uint32_t start_pos,
                   std::span<const float> k_cache, std::span<const float> v_cache, std::span<float> out) {
  const uint32_t hd = shape.head_dim, q_dim = shape.n_heads * hd, kv_dim = shape.n_kv_heads * hd;
  check(hd > 0 && shape.n_kv_heads > 0 && shape.n_heads % shape.n_kv_heads == 0, "attention_ref",
        "n_heads must be a multiple of n_kv_heads");
  check(q.size() % q_dim == 0 && out.size() == q.size(), "attention_ref", "q and out are not [n][n_heads * head_dim]");
  const size_t n = q.size() / q_dim;
  check(k_cache.size() >= (start_pos + n) * kv_dim && v_cache.size() >= (start_pos + n) * kv_dim, "attention_ref",
        "the caches do not hold start_pos + n rows");
  const uint32_t group = shape.n_heads / shape.n_kv_heads;
  const double scale = 1.0 / std::sqrt(double(hd));
  std::vector<double> score(start_pos + n), acc(hd);
  for (size_t t = 0; t < n; ++t) {
    const size_t n_att = start_pos + t + 1;  // causal: rows 0 .. start_pos + t
    for (uint32_t h = 0; h < shape.n_heads; ++h) {
      const float* qh = q.data() + t * q_dim + h * hd;
      const size_t kv_off = size_t(h / group) * hd;
      double max = -INFINITY;
      for (size_t j = 0; j < n_att; ++j) {
        const float* kj = k_cache.data() + j * kv_dim + kv_off;
        double dot = 0;
        for (uint32_t d = 0; d < hd; ++d) dot += double(qh[d]) * double(kj[d]);
        score[j] = dot * scale;
        max = std::max(max, score[j]);
      }
      double sum = 0;
      for (size_t j = 0; j < n_att; ++j) sum += (score[j] = std::exp(score[j] - max));
      std::fill(acc.begin(), acc.end(), 0.0);
      for (size_t j = 0; j < n_att; ++j) {
        const float* vj = v_cache.data() + j * kv_dim + kv_off;
        for (uint32_t d = 0; d < hd; ++d) acc[d] += score[j] * double(vj[d]);
      }
      float* o = out.data() + t * q_dim + h * hd;
      for (uint32_t d = 0; d < hd; ++d) o[d] = static_cast<float>(acc[d] / sum);
    }
  }
}

void swiglu_ref(std::span<const float> gate, std::span<const float> up, std::span<float> out) {
  check(gate.size() == up.size() && out.size() == gate.size(), "swiglu_ref", "size mismatch");
  for (size_t i = 0; i < gate.size(); ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * double(up[i]));
  }
}

}  // namespace vkq::ops
