// generate() over a scripted session: stop reasons, decode steps, streamed
// text; TextStream agrees with Tokenizer::decode.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "generate.hpp"
#include "support/gpu.hpp"
#include "vocab.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::TokenType;

namespace {

const std::string kSp = "\xe2\x96\x81";  // U+2581

// <unk> <s> </s> ▁Hello ▁world ! <0x41>
std::unique_ptr<vkq::Tokenizer> hand_tokenizer() {
  vkq::Vocab v;
  v.tokens = {"<unk>", "<s>", "</s>", kSp + "Hello", kSp + "world", "!", "<0x41>"};
  v.types = {TokenType::unknown, TokenType::control, TokenType::control, TokenType::normal,
             TokenType::normal,  TokenType::normal,  TokenType::byte};
  v.scores.assign(v.tokens.size(), 0.0f);
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  vkq::GgufMetadata md("hand");
  vkq::set_vocab_metadata(md, v);
  return vkq::make_tokenizer(md);
}

// Logits that make script[i] the argmax of the i-th call; records positions.
class ScriptedSession final : public vkq::LlamaSession {
 public:
  ScriptedSession(std::vector<int32_t> script, uint32_t n_ctx) : script_(std::move(script)), n_ctx_(n_ctx) {}
  uint32_t n_ctx() const override { return n_ctx_; }
  uint32_t n_vocab() const override { return 7; }
  std::string device_name() const override { return "scripted"; }
  std::vector<float> decode(int32_t token, uint32_t pos) override {
    fed.push_back({token, pos});
    return next();
  }
  std::vector<float> prefill(std::span<const int32_t> tokens, uint32_t start_pos, bool) override {
    for (size_t i = 0; i < tokens.size(); ++i) fed.push_back({tokens[i], start_pos + uint32_t(i)});
    return next();
  }
  std::vector<std::pair<int32_t, uint32_t>> fed;

 private:
  std::vector<float> next() {
    std::vector<float> l(7, 0.0f);
    l[size_t(script_.at(calls_++))] = 1.0f;
    return l;
  }
  std::vector<int32_t> script_;
  uint32_t n_ctx_;
  size_t calls_ = 0;
};

}  // namespace

TEST_CASE("generate: stops at EOS, at N tokens, at the end of the context", "[generate]") {
  const auto tok = hand_tokenizer();
  vkq::Sampler greedy({.temperature = 0});
  const std::vector<int32_t> bos = {1};
  {
    ScriptedSession s({3, 4, 2, 5}, 16);
    std::string streamed;
    const auto r = vkq::generate(s, *tok, bos, 10, greedy, [&](std::string_view p) { streamed += p; });
    CHECK(r.tokens == std::vector<int32_t>{3, 4});
    CHECK(r.stop == vkq::StopReason::eos);
    CHECK(r.decode_steps == 2);
    CHECK(r.text == "Hello world");  // the first text token loses its space, as decode() does
    CHECK(streamed == r.text);
    CHECK(s.fed == std::vector<std::pair<int32_t, uint32_t>>{{1, 0}, {3, 1}, {4, 2}});
  }
  {
    ScriptedSession s({3, 4, 5}, 16);
    const auto r = vkq::generate(s, *tok, bos, 2, greedy);
    CHECK(r.tokens == std::vector<int32_t>{3, 4});
    CHECK(r.stop == vkq::StopReason::length);
    CHECK(r.decode_steps == 1);  // the last token is not fed back
  }
  {
    ScriptedSession s({3, 4, 5, 6}, 3);
    const auto r = vkq::generate(s, *tok, bos, 10, greedy);
    CHECK(r.tokens == std::vector<int32_t>{3, 4, 5});
    CHECK(r.stop == vkq::StopReason::context);
    CHECK(s.fed.back().second == 2);
  }
  {
    ScriptedSession s({4, 5, 6}, 16);
    const auto r = vkq::generate(s, *tok, std::vector<int32_t>{1, 3}, 3, greedy);
    CHECK(r.prompt_text == "Hello");
    CHECK(r.text == " world!A");  // after the prompt, spaces stay
  }
  ScriptedSession s({3}, 2);
  CHECK_THROWS_AS(vkq::generate(s, *tok, {}, 1, greedy), vkq::InputError);
  CHECK_THROWS_WITH(vkq::generate(s, *tok, std::vector<int32_t>{1, 3, 3}, 1, greedy),
                    ContainsSubstring("3 tokens, more than the context of 2"));
}

TEST_CASE("TextStream: token by token, the same bytes as decode()", "[generate]") {
  const auto tok = hand_tokenizer();
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int32_t> ids(vkq::test::rng()() % 6);
    for (auto& id : ids) id = static_cast<int32_t>(vkq::test::rng()() % 7);
    vkq::TextStream stream(*tok);
    std::string streamed;
    for (const auto id : ids) streamed += stream.feed(id);
    std::string shown;
    for (const auto id : ids) shown += std::to_string(id) + " ";
    INFO("ids: " << shown);
    CHECK(streamed == tok->decode(ids));
  }
}
