#include "topk_fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "error.hpp"
#include "sampler.hpp"

namespace vkq::eval {

TopK top_k(std::span<const float> logits, uint32_t k) {
  TopK t;
  t.lse = log_sum_exp(logits);
  const size_t n = std::min<size_t>(k, logits.size());
  std::vector<int32_t> idx(logits.size());
  std::iota(idx.begin(), idx.end(), 0);
  // Descending logit, lowest id first among equals (as argmax).
  auto before = [&](int32_t a, int32_t b) {
    const float la = logits[size_t(a)], lb = logits[size_t(b)];
    return la > lb || (la == lb && a < b);
  };
  std::partial_sort(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(n), idx.end(), before);
  t.ids.assign(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(n));
  t.logits.resize(n);
  for (size_t i = 0; i < n; ++i) t.logits[i] = logits[size_t(t.ids[i])];
  return t;
}

Fidelity fidelity_topk(const TopK& ref, std::span<const float> model) {
  if (ref.ids.empty() || ref.ids.size() != ref.logits.size())
    throw InputError("fidelity_topk: the reference top-k is empty or inconsistent");
  const double lm = log_sum_exp(model);
  double sum_p = 0, sum_q = 0, kld = 0;
  for (size_t i = 0; i < ref.ids.size(); ++i) {
    const int32_t id = ref.ids[i];
    if (id < 0 || size_t(id) >= model.size())
      throw InputError(fmt::format("reference token {} is outside the model's vocabulary of {}", id, model.size()));
    const double lp = double(ref.logits[i]) - double(ref.lse);
    const double lq = double(model[size_t(id)]) - lm;
    const double p = std::exp(lp);
    sum_p += p;
    sum_q += std::exp(lq);
    kld += p * (lp - lq);
  }
  // The rest bucket; rounding can push the sums a hair past 1.
  const double rest_p = std::max(0.0, 1.0 - sum_p);
  const double rest_q = std::max(1e-300, 1.0 - sum_q);
  if (rest_p > 1e-12) kld += rest_p * (std::log(rest_p) - std::log(rest_q));
  Fidelity f;
  f.kld = std::max(0.0, kld);
  f.same_top = argmax(model) == ref.ids[0];
  f.delta_p = std::exp(double(model[size_t(ref.ids[0])]) - lm) - std::exp(double(ref.logits[0]) - double(ref.lse));
  return f;
}

}  // namespace vkq::eval
