// Text generation over any LlamaSession (CPU reference or Vulkan): prefill
// the prompt in one batch, then sample and decode one token at a time,
// handing each token's text to a callback as it comes, until EOS, the token
// limit or the end of the session's context.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llama_session.hpp"
#include "sampler.hpp"
#include "tokenizer.hpp"

namespace vkq {

// Incremental Tokenizer::decode: feeding tokens one at a time gives, in
// total, the same bytes as decode() of the whole sequence (control tokens
// vanish; the space that encoding prepends is dropped from the first text
// token), so streamed output and the final text agree.
class TextStream {
 public:
  explicit TextStream(const Tokenizer& tok);
  std::string feed(int32_t id);

 private:
  const Tokenizer& tok_;
  bool strip_;
};

enum class StopReason { eos, length, context };
const char* stop_reason_name(StopReason r);  // "eos", "length", "context"

struct GenerateResult {
  std::vector<int32_t> prompt_tokens;
  std::vector<int32_t> tokens;  // generated, without the EOS that stopped it
  std::string prompt_text;      // decode(prompt_tokens)
  std::string text;             // the generated text (what the callback was given)
  StopReason stop = StopReason::length;
  double prompt_seconds = 0;     // prefill
  uint32_t decode_steps = 0;     // decode() calls: the last sampled token is not fed back
  double decode_seconds = 0;     // decode() and sampling after the prefill
  double prompt_tokens_per_second() const;
  double decode_tokens_per_second() const;
};

// Generates up to max_tokens tokens after `prompt` (token ids, BOS included
// if wanted; InputError if empty or longer than the session's context).
// on_text (optional) receives each generated token's text when it is sampled.
GenerateResult generate(LlamaSession& session, const Tokenizer& tok, std::span<const int32_t> prompt,
                        uint32_t max_tokens, Sampler& sampler,
                        const std::function<void(std::string_view)>& on_text = {});

}  // namespace vkq
