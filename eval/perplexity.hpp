// Perplexity over a text and, against a reference model, per-token
// fidelity: what `vkq perplexity` reports and what the scorecard's text items
// can reuse.
//
// Windows (as llama-perplexity): the text is tokenized once without BOS and
// cut into consecutive, non-overlapping windows of ctx tokens, each BOS
// followed by ctx - 1 text tokens (a tail too short for a window is left
// out). Each window is one prefill from position 0; like llama.cpp, only
// the second half is scored: the logits at positions ctx/2 .. ctx-2, each
// predicting the next token, so every scored token has at least ctx/2
// tokens of context.
//
// Fidelity (with a reference): the reference runs the same windows in
// lockstep, window by window, so memory is one window's logits per model
// (O(ctx x vocab)), never the whole text's; per scored token it gives
// KL(P_ref || P_model), top-1 agreement and Delta-p (token_metrics.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "llama_session.hpp"
#include "token_metrics.hpp"

namespace vkq::eval {

// The windows for a text's tokens (no BOS in text_tokens); bos < 0: no BOS
// (then each window is ctx text tokens). InputError when ctx < 4 or the text
// cannot fill one window.
std::vector<std::vector<int32_t>> perplexity_windows(const std::vector<int32_t>& text_tokens, int32_t bos,
                                                     uint32_t ctx);

// The first scored position of a window of ctx tokens (ctx / 2).
inline uint32_t first_scored(uint32_t ctx) { return ctx / 2; }

// Running scores of predicted tokens: log-probabilities for perplexity and,
// when reference logits come along, fidelity.
class TokenScorer {
 public:
  // logits: the model's [vocab] at a position; next: the token that follows;
  // ref_logits: the reference's at the same position, or empty.
  void add(std::span<const float> logits, int32_t next, std::span<const float> ref_logits = {});

  uint64_t count() const { return nll_.count(); }
  bool has_reference() const { return kld_.count() > 0; }
  const Summary& nll() const { return nll_; }          // -log p(next), nats
  const Summary& ref_nll() const { return ref_nll_; }  // the reference's
  const Summary& kld() const { return kld_; }
  const Summary& delta_p() const { return delta_p_; }
  uint64_t same_top() const { return same_top_; }

 private:
  Summary nll_, ref_nll_, kld_, delta_p_;
  uint64_t same_top_ = 0;
};

// exp(mean nll) and its standard error (delta method: ppl * sd(nll) / sqrt(n)).
struct Perplexity {
  double value = 0, err = 0;
};
Perplexity perplexity_of(const Summary& nll);

struct PerplexityOptions {
  // Called after each window: (windows done, windows in all).
  std::function<void(size_t, size_t)> progress;
};

// Scores `windows` (perplexity_windows) on `model` and, if `ref` is not
// null, the reference in lockstep. Sessions need n_ctx >= the window length
// and the same vocabulary (InputError otherwise).
TokenScorer score_windows(LlamaSession& model, LlamaSession* ref, const std::vector<std::vector<int32_t>>& windows,
                          const PerplexityOptions& opts = {});

// {"tokens", "ppl", "ppl_stderr", "nll_mean"} and with a reference
// {"reference": {"ppl", ...}, "ppl_ratio", "kld": Summary, "kld_stderr",
//  "top1": {"rate", "stderr"}, "delta_p": Summary + "rms"}.
nlohmann::json scores_json(const TokenScorer& s);

}  // namespace vkq::eval
