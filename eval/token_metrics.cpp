#include "token_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "sampler.hpp"

namespace vkq::eval {

double log_sum_exp(std::span<const float> logits) {
  if (logits.empty()) throw InputError("log_sum_exp: no logits");
  double mx = -std::numeric_limits<double>::infinity();
  for (const float l : logits) mx = std::max(mx, double(l));
  if (!std::isfinite(mx)) return mx;
  double s = 0;
  for (const float l : logits) s += std::exp(double(l) - mx);
  return mx + std::log(s);
}

double token_logprob(std::span<const float> logits, int32_t token) {
  if (token < 0 || size_t(token) >= logits.size())
    throw InputError(fmt::format("token {} is outside the vocabulary of {}", token, logits.size()));
  return double(logits[size_t(token)]) - log_sum_exp(logits);
}

Fidelity fidelity(std::span<const float> ref, std::span<const float> model) {
  if (ref.size() != model.size() || ref.empty())
    throw InputError(fmt::format("fidelity: vocabularies of {} and {} tokens", ref.size(), model.size()));
  const double lr = log_sum_exp(ref), lm = log_sum_exp(model);
  double kld = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double a = double(ref[i]) - lr, b = double(model[i]) - lm;
    const double p = std::exp(a);
    if (p > 0) kld += p * (a - b);
  }
  Fidelity f;
  f.kld = std::max(0.0, kld);  // rounding can leave -1e-17 for identical inputs
  const int32_t tr = argmax(ref), tm = argmax(model);
  f.same_top = tr == tm;
  f.delta_p = std::exp(double(model[size_t(tr)]) - lm) - std::exp(double(ref[size_t(tr)]) - lr);
  return f;
}

double Summary::mean() const {
  if (values_.empty()) return 0;
  double s = 0;
  for (const double v : values_) s += v;
  return s / double(values_.size());
}

double Summary::max() const { return values_.empty() ? 0 : *std::max_element(values_.begin(), values_.end()); }

double Summary::quantile(double q) const {
  if (values_.empty()) return 0;
  if (!(q >= 0 && q <= 1)) throw InputError(fmt::format("quantile {} is outside [0, 1]", q));
  std::vector<double> v = values_;
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

nlohmann::json Summary::to_json() const {
  return {{"mean", mean()}, {"median", median()}, {"p90", quantile(0.9)}, {"p99", quantile(0.99)}, {"max", max()},
          {"n", count()}};
}

}  // namespace vkq::eval
