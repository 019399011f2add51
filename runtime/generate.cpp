#include "generate.hpp"

#include <chrono>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TextStream::TextStream(const Tokenizer& tok) : tok_(tok), strip_(tok.vocab().add_space_prefix) {}

// Mirrors Tokenizer::decode: control and unused tokens give nothing and leave
// the first text token to come; that one loses a leading space.
std::string TextStream::feed(int32_t id) {
  std::string piece = tok_.token_to_piece(id);  // checks the id
  const auto type = tok_.vocab().types[size_t(id)];
  if (type == TokenType::control || type == TokenType::unused) return piece;
  if (strip_ && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
  strip_ = false;
  return piece;
}

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::eos: return "eos";
    case StopReason::length: return "length";
    case StopReason::context: return "context";
  }
  return "?";
}

double GenerateResult::prompt_tokens_per_second() const {
  return prompt_seconds > 0 ? double(prompt_tokens.size()) / prompt_seconds : 0.0;
}

double GenerateResult::decode_tokens_per_second() const {
  return decode_seconds > 0 ? double(decode_steps) / decode_seconds : 0.0;
}

GenerateResult generate(LlamaSession& session, const Tokenizer& tok, std::span<const int32_t> prompt,
                        uint32_t max_tokens, Sampler& sampler, const std::function<void(std::string_view)>& on_text) {
  if (prompt.empty()) throw InputError("generate: the prompt has no tokens", "the vocabulary has no BOS; give a prompt");
  if (prompt.size() > session.n_ctx())
    throw InputError(fmt::format("the prompt has {} tokens, more than the context of {}", prompt.size(),
                                 session.n_ctx()));
  GenerateResult r;
  r.prompt_tokens.assign(prompt.begin(), prompt.end());
  TextStream stream(tok);
  for (const int32_t id : prompt) r.prompt_text += stream.feed(id);

  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits = session.prefill(prompt, 0);
  r.prompt_seconds = seconds_since(t0);

  uint32_t pos = static_cast<uint32_t>(prompt.size());
  const int32_t eos = tok.vocab().eos;
  r.stop = StopReason::length;
  double callback_seconds = 0;
  t0 = std::chrono::steady_clock::now();
  while (r.tokens.size() < max_tokens) {
    const int32_t next = sampler.sample(logits);
    if (next == eos) {
      r.stop = StopReason::eos;
      break;
    }
    r.tokens.push_back(next);
    const std::string piece = stream.feed(next);
    r.text += piece;
    if (on_text) {
      const auto tc = std::chrono::steady_clock::now();
      on_text(piece);
      callback_seconds += seconds_since(tc);
    }
    if (r.tokens.size() == max_tokens) break;
    if (pos == session.n_ctx()) {
      r.stop = StopReason::context;
      break;
    }
    logits = session.decode(next, pos++);
    ++r.decode_steps;
  }
  r.decode_seconds = seconds_since(t0) - callback_seconds;
  return r;
}

}  // namespace vkq
