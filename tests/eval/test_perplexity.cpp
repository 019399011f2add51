// Perplexity windows and scoring on sessions whose logits are known in
// closed form, and on stories260K against a direct computation.
#include <cmath>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include "cpu_forward.hpp"
#include "error.hpp"
#include "perplexity.hpp"
#include "support/llama_models.hpp"

using Catch::Approx;
using namespace vkq;
using namespace vkq::eval;

namespace {

// A session over a vocabulary of 4 whose logits at position p are
// (shift, 0, 0, 0) with shift = p % 2 ? a : b: known softmaxes.
class FakeSession final : public LlamaSession {
 public:
  FakeSession(float a, float b) : a_(a), b_(b) {}
  uint32_t n_ctx() const override { return 64; }
  uint32_t n_vocab() const override { return 4; }
  std::string device_name() const override { return "fake"; }
  std::vector<float> decode(int32_t t, uint32_t pos) override { return prefill({&t, 1}, pos, false); }
  std::vector<float> prefill(std::span<const int32_t> tokens, uint32_t start, bool all) override {
    ++calls;
    std::vector<float> out;
    for (size_t i = all ? 0 : tokens.size() - 1; i < tokens.size(); ++i) {
      const uint32_t p = start + uint32_t(i);
      out.insert(out.end(), {p % 2 ? a_ : b_, 0, 0, 0});
    }
    return out;
  }
  int calls = 0;

 private:
  float a_, b_;
};

}  // namespace

TEST_CASE("perplexity windows: BOS, consecutive, non-overlapping, the tail dropped", "[eval][perplexity]") {
  std::vector<int32_t> text(50);
  for (int i = 0; i < 50; ++i) text[size_t(i)] = 10 + i;
  const auto w = perplexity_windows(text, 1, 8);  // 7 text tokens each: 7 windows, 1 token left over
  REQUIRE(w.size() == 7);
  for (size_t i = 0; i < w.size(); ++i) {
    REQUIRE(w[i].size() == 8);
    CHECK(w[i][0] == 1);
    CHECK(w[i][1] == int32_t(10 + 7 * i));
    CHECK(w[i][7] == int32_t(10 + 7 * i + 6));
  }
  CHECK(perplexity_windows(text, -1, 10).size() == 5);
  CHECK_THROWS_AS(perplexity_windows(text, 1, 64), InputError);
  CHECK_THROWS_AS(perplexity_windows(text, 1, 3), InputError);
  CHECK(first_scored(512) == 256);
}

TEST_CASE("perplexity: uniform logits give the vocabulary size, and fidelity in closed form", "[eval][perplexity]") {
  FakeSession uniform(0, 0), model(std::log(3.0f), 0);
  const std::vector<std::vector<int32_t>> windows = {{1, 2, 3, 0, 1, 2, 3, 0}, {1, 0, 0, 0, 0, 0, 0, 0}};
  const TokenScorer alone = score_windows(uniform, nullptr, windows);
  CHECK(alone.count() == 2 * 3);  // positions 4, 5, 6 of each window
  CHECK(perplexity_of(alone.nll()).value == Approx(4.0));
  CHECK(uniform.calls == 2);

  // model vs reference `uniform`: at odd positions the model has
  // p = (1/2, 1/6, 1/6, 1/6); at even positions both are uniform.
  const TokenScorer s = score_windows(model, &uniform, windows);
  REQUIRE(s.count() == 6);
  const double kld_odd = 0.25 * std::log(0.25 / 0.5) + 0.75 * std::log(0.25 / (1.0 / 6));
  CHECK(s.kld().mean() == Approx(kld_odd * 2 / 6));  // positions 5 in both windows are odd
  CHECK(s.kld().max() == Approx(kld_odd));
  CHECK(s.same_top() == 6);  // ties go to the lowest id: token 0 everywhere
  CHECK(s.delta_p().max() == Approx(0.25));
  const auto j = scores_json(s);
  CHECK(j["tokens"] == 6);
  CHECK(j["reference"]["ppl"].get<double>() == Approx(4.0));
  CHECK(j["top1"]["rate"] == 1.0);
  // Positions 4, 5, 6 predict window 0's tokens 2, 3, 0: -log p = log 4,
  // log 6 (odd position, not token 0), log 4; window 1's 0, 0, 0: log 4,
  // log 2 (odd position, token 0), log 4.
  const double want = (std::log(4.0) + std::log(6.0) + std::log(4.0) + std::log(4.0) + std::log(2.0) + std::log(4.0)) / 6;
  CHECK(s.nll().mean() == Approx(want));

  // A reference over another vocabulary cannot be compared.
  struct Wider final : LlamaSession {
    uint32_t n_ctx() const override { return 64; }
    uint32_t n_vocab() const override { return 5; }
    std::string device_name() const override { return "wider"; }
    std::vector<float> decode(int32_t, uint32_t) override { return std::vector<float>(5); }
    std::vector<float> prefill(std::span<const int32_t> t, uint32_t, bool) override { return std::vector<float>(5 * t.size()); }
  } wider;
  CHECK_THROWS_AS(score_windows(model, &wider, windows), InputError);
}

TEST_CASE("perplexity on stories260K equals a direct computation", "[eval][perplexity]") {
  VKQ_REQUIRE_STORIES260K();
  const auto m = vkq::test::load_stories260k(GgmlType::F32);
  const auto story = vkq::test::story_tokens(*m.model, 120);
  const std::vector<int32_t> text(story.begin() + 1, story.end());  // without its BOS
  const auto windows = perplexity_windows(text, 1, 32);
  REQUIRE(windows.size() == 3);
  CpuForward s(*m.model, 32);
  const TokenScorer scores = score_windows(s, nullptr, windows);
  double nll = 0;
  size_t n = 0;
  for (const auto& w : windows) {
    CpuForward fresh(*m.model, 32);
    for (uint32_t p = 0; p + 1 < 32; ++p) {
      const auto logits = fresh.decode(w[p], p);
      if (p < 16) continue;
      nll -= token_logprob(logits, w[p + 1]);
      ++n;
    }
  }
  CHECK(scores.count() == n);
  CHECK(scores.nll().mean() == Approx(nll / double(n)).epsilon(1e-5));
}
