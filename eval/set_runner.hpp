// Runs one eval set on one llama session (CPU reference or Vulkan):
//   text      the item's tokens (BOS first) are prefilled; every position but
//             the last predicts the next token: -log p of it, and fidelity
//             against the reference's top-k at that position;
//   choice    each option is `context + option` tokenized whole; the option's
//             tokens are those after the context's; their log-likelihood
//             given the context is summed (choice_score.hpp);
//   generate  the prompt is prefilled, then greedy decoding to max_tokens,
//             EOS, the stop string or the end of the context; the text is
//             checked by the item's match rule (match_rule.hpp).
// The session's KV cache is reused across calls: a sequence that starts
// with the tokens already in the cache (the options of one choice, choice
// items that continue a long story) prefills only what differs. Prefill goes
// in chunks of up to 64 tokens, so logits in memory are [64][vocab] at most.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "eval_set.hpp"
#include "item_score.hpp"
#include "llama_session.hpp"
#include "tokenizer.hpp"
#include "topk_fidelity.hpp"

namespace vkq::eval {

// An eval set's token ids under one tokenizer (shared by every variant).
struct TokenizedItem {
  std::vector<int32_t> tokens;  // text: all of it; generate: the prompt
  struct Option {
    std::vector<int32_t> seq;  // context + option
    size_t first = 0;          // index in seq of the option's first token (>= 1)
    size_t bytes = 0;          // the option's text length
  };
  std::vector<Option> options;  // choice
};

struct TokenizedSet {
  std::vector<TokenizedItem> items;  // in the set's order
  uint32_t max_tokens = 0;           // longest sequence any item needs (the KV cache size)
  size_t text_positions = 0;         // scored positions of all text items (the reference's top-k rows)
};

// InputError naming the item when one does not fit `context_length`.
TokenizedSet tokenize_set(const EvalSet& set, const Tokenizer& tok, uint32_t context_length);

struct SetRun {
  std::vector<ItemScore> items;
  std::vector<TopK> topk;  // with capture_topk: one per text position, in item order
  RunTiming timing;
};

struct SetRunOptions {
  // The reference's top-k rows (TokenizedSet::text_positions of them) to
  // score fidelity against; empty for the reference itself (its fidelity is
  // exact: kld 0, top-1 agreement 1, Delta-p 0).
  std::span<const TopK> reference;
  bool capture_topk = false;
  int32_t eos = -1;  // stops generation
  std::function<void(size_t done, size_t total)> progress;
};

SetRun run_set(LlamaSession& session, const Tokenizer& tok, const EvalSet& set, const TokenizedSet& tokens,
               const SetRunOptions& opts);

}  // namespace vkq::eval
