// Metric math against hand-computed values: the bootstrap interval (fixed
// seed), length-normalised choice accuracy, KLD from the reference's top-k,
// and the generate items' match rules.
#include <cmath>
#include <vector>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>

#include "bootstrap.hpp"
#include "choice_score.hpp"
#include "error.hpp"
#include "eval_set.hpp"
#include "match_rule.hpp"
#include "token_metrics.hpp"
#include "topk_fidelity.hpp"

using namespace vkq::eval;
using Catch::Approx;

TEST_CASE("ratio statistic: sum of numerators over sum of denominators, exp for perplexity", "[eval][bootstrap]") {
  const std::vector<Sample> s = {{1, 2}, {3, 4}};
  CHECK(ratio_statistic(s, false) == Approx(4.0 / 6.0));
  CHECK(ratio_statistic(s, true) == Approx(std::exp(4.0 / 6.0)));
  CHECK(ratio_statistic({}, false) == 0);
}

TEST_CASE("bootstrap CI: hand-computed cases", "[eval][bootstrap]") {
  BootstrapOptions o{10000, 0.95, 42};
  SECTION("constant data: a point interval") {
    const std::vector<Sample> s(7, Sample{0.3, 1});
    const auto ci = bootstrap_ci(s, false, o);
    CHECK(ci.lo == Approx(0.3));
    CHECK(ci.hi == Approx(0.3));
  }
  SECTION("two items, 0 and 1: resampled means are 0, 1/2, 1 with probability 1/4, 1/2, 1/4") {
    const std::vector<Sample> s = {{0, 1}, {1, 1}};
    // 95%: the 2.5% and 97.5% quantiles fall in the outer quarters.
    auto ci = bootstrap_ci(s, false, o);
    CHECK(ci.lo == 0.0);
    CHECK(ci.hi == 1.0);
    // 40%: the 30% and 70% quantiles both fall in the middle half.
    o.confidence = 0.4;
    ci = bootstrap_ci(s, false, o);
    CHECK(ci.lo == 0.5);
    CHECK(ci.hi == 0.5);
  }
  SECTION("many items: the normal approximation mean +- 1.96 sd / sqrt(n)") {
    std::vector<Sample> s;
    double sum = 0, sq = 0;
    for (int i = 0; i < 400; ++i) {
      const double v = double((i * 7919) % 1000) / 1000.0;
      s.push_back({v, 1});
      sum += v;
      sq += v * v;
    }
    const double n = 400, mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
    const auto ci = bootstrap_ci(s, false, o);
    CHECK((ci.lo + ci.hi) / 2 == Approx(mean).margin(0.005));
    CHECK(ci.hi - ci.lo == Approx(2 * 1.96 * sd / std::sqrt(n)).epsilon(0.08));
  }
  SECTION("the same seed gives the same interval, another seed another") {
    std::vector<Sample> s;
    for (int i = 0; i < 30; ++i) s.push_back({double(i % 7), 1});
    o.resamples = 500;
    const auto a = bootstrap_ci(s, false, o), b = bootstrap_ci(s, false, o);
    CHECK(a.lo == b.lo);
    CHECK(a.hi == b.hi);
    o.seed = 43;
    const auto c = bootstrap_ci(s, false, o);
    CHECK((c.lo != a.lo || c.hi != a.hi));
    CHECK(row_seed(1, "x|a") != row_seed(1, "x|b"));
    CHECK(row_seed(1, "x|a") == row_seed(1, "x|a"));
  }
  SECTION("bad settings are refused") {
    o.resamples = 5;
    CHECK_THROWS_AS(bootstrap_ci(std::vector<Sample>{{1, 1}}, false, o), vkq::InputError);
    o = {1000, 1.0, 1};
    CHECK_THROWS_AS(bootstrap_ci(std::vector<Sample>{{1, 1}}, false, o), vkq::InputError);
  }
}

TEST_CASE("paired bootstrap: what the two sides share cancels", "[eval][bootstrap]") {
  // b = a + 0.1 on every item: every paired resample differs by exactly -0.1,
  // while a alone spreads widely.
  std::vector<Sample> a, b;
  for (int i = 0; i < 50; ++i) {
    const double v = double((i * 37) % 11) / 10.0;
    a.push_back({v, 1});
    b.push_back({v + 0.1, 1});
  }
  const BootstrapOptions o{2000, 0.95, 7};
  const auto d = paired_bootstrap_delta_ci(a, b, false, o);
  CHECK(d.lo == Approx(-0.1).margin(1e-12));
  CHECK(d.hi == Approx(-0.1).margin(1e-12));
  const auto alone = bootstrap_ci(a, false, o);
  CHECK(alone.hi - alone.lo > 0.1);
  CHECK_THROWS_AS(paired_bootstrap_delta_ci(a, std::vector<Sample>(3, Sample{1, 1}), false, o), vkq::InputError);
}

TEST_CASE("choice: acc by summed log-likelihood, acc_norm per byte", "[eval][choice]") {
  // Option 0: -4 over 2 bytes (-2 per byte); option 1: -6 over 6 bytes (-1 per byte).
  const std::vector<double> ll = {-4, -6};
  const std::vector<size_t> bytes = {2, 6};
  const auto p = pick_choice(ll, bytes);
  CHECK(p.best == 0);
  CHECK(p.best_norm == 1);
  // Ties go to the lower index.
  const auto t = pick_choice(std::vector<double>{-3, -3, -5}, std::vector<size_t>{3, 3, 5});
  CHECK(t.best == 0);
  CHECK(t.best_norm == 0);
  CHECK_THROWS_AS(pick_choice(ll, std::vector<size_t>{1}), vkq::InputError);
  CHECK_THROWS_AS(pick_choice(ll, std::vector<size_t>{1, 0}), vkq::InputError);
}

TEST_CASE("top-k: descending logits, lowest id first on ties", "[eval][topk]") {
  const std::vector<float> l = {1, 3, 3, 0};
  const auto t = top_k(l, 3);
  CHECK(t.ids == std::vector<int32_t>{1, 2, 0});
  CHECK(t.logits == std::vector<float>{3, 3, 1});
  CHECK(t.lse == Approx(log_sum_exp(l)));
  CHECK(top_k(l, 32).ids.size() == 4);
}

TEST_CASE("top-k KLD: hand-computed, exact with the whole vocabulary, a lower bound otherwise", "[eval][topk]") {
  const std::vector<float> ref = {2, 1, 0, -1}, model = {1.5f, 1.2f, 0.1f, -2};
  // By hand (softmax of each, then the sums below):
  //   full   KL = sum_i p_i log(p_i / q_i)                               = 0.05964995458561734
  //   k = 2  KL = p0 log(p0/q0) + p1 log(p1/q1) + (p2+p3) log((p2+p3)/(q2+q3)) = 0.047956934773647014
  //   delta_p = q0 - p0                                                  = -0.1482789650659102
  const auto full = fidelity_topk(top_k(ref, 4), model);
  CHECK(full.kld == Approx(0.05964995458561734).epsilon(1e-6));
  CHECK(full.kld == Approx(fidelity(ref, model).kld).epsilon(1e-6));
  const auto k2 = fidelity_topk(top_k(ref, 2), model);
  CHECK(k2.kld == Approx(0.047956934773647014).epsilon(1e-6));
  CHECK(k2.kld <= full.kld);
  CHECK(k2.same_top);
  CHECK(k2.delta_p == Approx(-0.1482789650659102).epsilon(1e-6));
  // Identical logits: exactly zero.
  const auto same = fidelity_topk(top_k(ref, 2), ref);
  CHECK(same.kld == 0);
  CHECK(same.delta_p == Approx(0).margin(1e-15));
  // Another top token.
  const auto other = fidelity_topk(top_k(ref, 2), std::vector<float>{0, 3, 0, 0});
  CHECK_FALSE(other.same_top);
  CHECK_THROWS_AS(fidelity_topk(top_k(ref, 2), std::vector<float>{1}), vkq::InputError);
}

TEST_CASE("match rules: exact, prefix, regex, json", "[eval][match]") {
  MatchSpec exact{MatchRule::exact, "Lily", {}, nullptr};
  CHECK(matches(exact, " Lily ", ""));
  CHECK(matches(exact, " Lily. She ran", "."));
  CHECK_FALSE(matches(exact, " Lily. She ran", ""));
  CHECK_FALSE(matches(exact, " Lilly", ""));
  MatchSpec prefix{MatchRule::prefix, " Lily", {}, nullptr};
  CHECK(matches(prefix, " Lily was happy", ""));
  CHECK(matches(prefix, "Lily", ""));
  CHECK_FALSE(matches(prefix, " Tom", ""));
  MatchSpec re{MatchRule::regex, "^ (he|she)\\b", {}, std::make_shared<const std::regex>("^ (he|she)\\b")};
  CHECK(matches(re, " she ran", ""));
  CHECK_FALSE(matches(re, " shepherd", ""));
  MatchSpec js{MatchRule::json, "", {"name", "age"}, nullptr};
  CHECK(matches(js, " {\"name\": \"Lily\", \"age\": 3}\n", ""));
  CHECK_FALSE(matches(js, "{\"name\": \"Lily\"}", ""));
  CHECK_FALSE(matches(js, "{\"name\": ", ""));
  CHECK_FALSE(matches(js, "[1, 2]", ""));
  MatchSpec any_json{MatchRule::json, "", {}, nullptr};
  CHECK(matches(any_json, "[1, 2] STOP junk", " STOP"));
  CHECK(cut_at_stop("a.b.c", ".") == "a");
  CHECK(cut_at_stop("abc", "") == "abc");
}
