// Picks the next token from logits: greedy, or temperature / top-k / top-p
// sampling with its own seeded generator (no global state), so the same seed
// and the same logits give the same tokens on any machine.
//
// Order (as Hugging Face transformers and llama2.c): logits / temperature,
// keep the top_k most likely, keep the smallest set of those whose
// probabilities sum to at least top_p, renormalise, draw. Ties are broken by
// the lower token id, in greedy decoding too.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace vkq {

struct SamplerOptions {
  float temperature = 0.8f;  // 0: greedy (argmax); > 0 otherwise
  int32_t top_k = 40;        // 0: no limit
  float top_p = 0.95f;       // in (0, 1]; 1: no limit
  uint64_t seed = 0;

  // InputError naming the option (--temp, --top-k, --top-p) when out of range.
  void validate() const;
  bool greedy() const { return temperature == 0.0f; }
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions opts);  // validates
  const SamplerOptions& options() const { return opts_; }

  // The next token for logits[n_vocab].
  int32_t sample(std::span<const float> logits);

 private:
  // A uniform double in [0, 1) from the next 53 bits: defined by the
  // generator alone, not by the standard library's distributions.
  double uniform();

  SamplerOptions opts_;
  std::mt19937_64 rng_;
  struct Candidate {
    int32_t id;
    double p;
  };
  std::vector<Candidate> cand_;  // scratch
};

// Index of the largest logit (the lowest such index); NaNs are never chosen
// unless every logit is NaN, then 0.
int32_t argmax(std::span<const float> logits);

}  // namespace vkq
