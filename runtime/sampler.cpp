#include "sampler.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

void SamplerOptions::validate() const {
  if (!(temperature >= 0.0f) || !std::isfinite(temperature))
    throw InputError(fmt::format("--temp {} must be 0 (greedy) or positive", temperature));
  if (top_k < 0) throw InputError(fmt::format("--top-k {} must be 0 (no limit) or positive", top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f))
    throw InputError(fmt::format("--top-p {} must be in (0, 1] (1: no limit)", top_p));
}

int32_t argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (std::isnan(logits[i])) continue;
    if (logits[i] > logits[size_t(best)] || std::isnan(logits[size_t(best)])) best = static_cast<int32_t>(i);
  }
  return best;
}

Sampler::Sampler(SamplerOptions opts) : opts_(opts), rng_(opts.seed) { opts_.validate(); }

double Sampler::uniform() { return double(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(std::span<const float> logits) {
  if (logits.empty()) throw InputError("sampler: no logits");
  if (opts_.greedy()) return argmax(logits);

  cand_.clear();
  for (size_t i = 0; i < logits.size(); ++i)
    if (!std::isnan(logits[i])) cand_.push_back({static_cast<int32_t>(i), double(logits[i]) / opts_.temperature});
  if (cand_.empty()) return 0;
  // Most likely first, ties by the lower id; only the top_k need ordering.
  const auto before = [](const Candidate& a, const Candidate& b) { return a.p > b.p || (a.p == b.p && a.id < b.id); };
  const size_t k = opts_.top_k > 0 ? std::min(cand_.size(), size_t(opts_.top_k)) : cand_.size();
  std::partial_sort(cand_.begin(), cand_.begin() + std::ptrdiff_t(k), cand_.end(), before);
  cand_.resize(k);

  // Softmax over the kept logits (unnormalised: p = e^(l - max)).
  const double max = cand_[0].p;
  double sum = 0;
  for (auto& c : cand_) sum += (c.p = std::exp(c.p - max));
  if (!std::isfinite(sum) || !(sum > 0)) return cand_[0].id;  // +inf logits: the first of them

  if (opts_.top_p < 1.0f) {
    const double target = double(opts_.top_p) * sum;
    double cum = 0;
    size_t m = 0;
    while (m < cand_.size() && cum < target) cum += cand_[m++].p;
    cand_.resize(std::max<size_t>(m, 1));
    sum = cum > 0 ? cum : cand_[0].p;
  }

  const double r = uniform() * sum;
  double cum = 0;
  for (const auto& c : cand_) {
    cum += c.p;
    if (r < cum) return c.id;
  }
  return cand_.back().id;  // r within rounding of the total
}

}  // namespace vkq
