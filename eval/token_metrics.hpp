// Per-token scores of a model's next-token distribution, the pieces that
// `vkq perplexity` and the scorecard's `text` items share:
//   - log-probability of the actual next token (perplexity = exp(-mean));
//   - fidelity against a reference distribution over the same vocabulary:
//     KL(P_ref || P_model), whether the two share their top token, and
//     Delta-p = p_model(t*) - p_ref(t*) for the reference's top token t*;
// and streaming summaries (mean, median, percentiles, max) of per-token
// values. Everything in fp64 from fp32 logits; log-softmax is computed with
// the max subtracted, so large logits do not overflow.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vkq::eval {

// log-sum-exp of the logits (the log of softmax's denominator).
double log_sum_exp(std::span<const float> logits);

// log p(token) under softmax(logits). InputError for a token outside.
double token_logprob(std::span<const float> logits, int32_t token);

struct Fidelity {
  double kld = 0;        // KL(P_ref || P_model) in nats, >= 0
  bool same_top = false; // argmax agrees (lowest index on ties)
  double delta_p = 0;    // p_model(t*) - p_ref(t*), t* = reference argmax
};

// Both over the same vocabulary (InputError otherwise).
Fidelity fidelity(std::span<const float> ref_logits, std::span<const float> model_logits);

// Per-token values kept in full (one double each: O(tokens), never
// O(tokens x vocab)), summarised on demand.
class Summary {
 public:
  void add(double v) { values_.push_back(v); }
  size_t count() const { return values_.size(); }
  double mean() const;
  double max() const;
  // Linear interpolation between closest ranks (numpy's default); q in [0, 1].
  double quantile(double q) const;
  double median() const { return quantile(0.5); }
  const std::vector<double>& values() const { return values_; }
  // {"mean", "median", "p90", "p99", "max", "n"}.
  nlohmann::json to_json() const;

 private:
  std::vector<double> values_;
};

}  // namespace vkq::eval
