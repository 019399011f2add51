// Sampler: greedy, temperature, top-k, top-p; the same seed gives the same
// tokens; options out of range are refused naming the option.
#include <cmath>
#include <map>
#include <set>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "sampler.hpp"
#include "support/gpu.hpp"

using Catch::Approx;
using Catch::Matchers::ContainsSubstring;
using vkq::Sampler;

namespace {

std::vector<int32_t> draws(Sampler& s, std::span<const float> logits, int n) {
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(logits));
  return out;
}

}  // namespace

TEST_CASE("sampler: greedy is the argmax, ties to the lower id", "[sampler]") {
  Sampler s({.temperature = 0, .seed = 1});
  CHECK(s.sample(std::vector<float>{0.1f, 3.0f, -1.0f, 3.0f}) == 1);
  CHECK(s.sample(std::vector<float>{NAN, -5.0f, -4.0f}) == 2);
  CHECK(vkq::argmax(std::vector<float>{NAN, NAN}) == 0);
  // top_k = 1 is greedy at any temperature.
  Sampler k1({.temperature = 5, .top_k = 1, .seed = 7});
  CHECK(draws(k1, std::vector<float>{1, 2, 1.9f}, 20) == std::vector<int32_t>(20, 1));
  // A tiny top_p keeps only the most likely token.
  Sampler p({.temperature = 1, .top_k = 0, .top_p = 1e-6f, .seed = 7});
  CHECK(draws(p, std::vector<float>{1, 2, 1.9f}, 20) == std::vector<int32_t>(20, 1));
}

TEST_CASE("sampler: the same seed gives the same tokens, other seeds others", "[sampler]") {
  const auto logits = vkq::test::random_floats(512, -2.0f, 2.0f);
  const vkq::SamplerOptions o{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 42};
  Sampler a(o), b(o);
  const auto ta = draws(a, logits, 64);
  CHECK(ta == draws(b, logits, 64));
  auto o2 = o;
  o2.seed = 43;
  Sampler c(o2);
  CHECK(ta != draws(c, logits, 64));
  // Fixed by the generator alone (mt19937_64 and 53-bit doubles), so a
  // known seed and logits give known tokens on every platform.
  Sampler d({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 1});
  CHECK(draws(d, std::vector<float>{0, 0, 0, 0}, 12) == std::vector<int32_t>{0, 0, 1, 0, 1, 3, 1, 0, 2, 2, 0, 2});
}

TEST_CASE("sampler: draws follow softmax(logits / T) within top-k and top-p", "[sampler]") {
  const int n = 20000;
  auto freq = [&](const vkq::SamplerOptions& o, const std::vector<float>& logits) {
    Sampler s(o);
    std::map<int32_t, double> f;
    for (int i = 0; i < n; ++i) f[s.sample(logits)] += 1.0 / n;
    return f;
  };
  const std::vector<float> logits = {std::log(0.5f), std::log(0.25f), std::log(0.125f), std::log(0.125f)};
  auto f = freq({.temperature = 1, .top_k = 0, .top_p = 1, .seed = 3}, logits);
  CHECK(f[0] == Approx(0.5).margin(0.02));
  CHECK(f[1] == Approx(0.25).margin(0.02));
  CHECK(f[3] == Approx(0.125).margin(0.02));
  // Temperature 2 flattens: p ~ sqrt(p).
  f = freq({.temperature = 2, .top_k = 0, .top_p = 1, .seed = 3}, logits);
  const double z = std::sqrt(0.5) + std::sqrt(0.25) + 2 * std::sqrt(0.125);
  CHECK(f[0] == Approx(std::sqrt(0.5) / z).margin(0.02));
  // top-k 2: renormalised over the two best.
  f = freq({.temperature = 1, .top_k = 2, .top_p = 1, .seed = 3}, logits);
  CHECK(f.size() == 2);
  CHECK(f[0] == Approx(2.0 / 3).margin(0.02));
  // top-p 0.7: 0.5 + 0.25 reaches it, so tokens 0 and 1 only.
  f = freq({.temperature = 1, .top_k = 0, .top_p = 0.7f, .seed = 3}, logits);
  CHECK(f.size() == 2);
  CHECK(f[1] == Approx(1.0 / 3).margin(0.02));
  // Ties at the top-k boundary go to the lower id.
  f = freq({.temperature = 1, .top_k = 3, .top_p = 1, .seed = 3}, logits);
  CHECK(f.count(2) == 1);
  CHECK(f.count(3) == 0);
}

TEST_CASE("sampler: options out of range are refused, naming the option", "[sampler]") {
  CHECK_THROWS_WITH(Sampler({.temperature = -1}), ContainsSubstring("--temp -1"));
  CHECK_THROWS_WITH(Sampler({.temperature = NAN}), ContainsSubstring("--temp"));
  CHECK_THROWS_WITH(Sampler({.top_k = -2}), ContainsSubstring("--top-k -2"));
  CHECK_THROWS_WITH(Sampler({.top_p = 0}), ContainsSubstring("--top-p 0"));
  CHECK_THROWS_WITH(Sampler({.top_p = 1.5f}), ContainsSubstring("--top-p 1.5"));
  CHECK_THROWS_AS(Sampler({.temperature = 1}).sample({}), vkq::InputError);
}
