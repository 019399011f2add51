// Token metrics against hand-computed values.
#include <cmath>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "token_metrics.hpp"

using Catch::Approx;
using namespace vkq::eval;

TEST_CASE("log-sum-exp and token log-probabilities", "[eval][metrics]") {
  const std::vector<float> l{0.0f, std::log(3.0f)};  // softmax = (1/4, 3/4)
  CHECK(log_sum_exp(l) == Approx(std::log(4.0)));
  CHECK(token_logprob(l, 0) == Approx(std::log(0.25)));
  CHECK(token_logprob(l, 1) == Approx(std::log(0.75)));
  // Large logits do not overflow.
  const std::vector<float> big{1000.0f, 1000.0f};
  CHECK(token_logprob(big, 1) == Approx(std::log(0.5)));
  CHECK_THROWS_AS(token_logprob(l, 2), vkq::InputError);
  CHECK_THROWS_AS(token_logprob(l, -1), vkq::InputError);
}

TEST_CASE("fidelity: KL divergence, top-1 agreement and delta-p", "[eval][metrics]") {
  // P = (1/4, 3/4), Q = (1/2, 1/2): KL(P||Q) = 1/4 ln(1/2) + 3/4 ln(3/2).
  const std::vector<float> p{0.0f, std::log(3.0f)}, q{5.0f, 5.0f};
  const auto f = fidelity(p, q);
  CHECK(f.kld == Approx(0.25 * std::log(0.5) + 0.75 * std::log(1.5)));
  CHECK(f.same_top == false);  // P's top is 1, Q's (a tie) is 0
  CHECK(f.delta_p == Approx(0.5 - 0.75));
  const auto same = fidelity(p, p);
  CHECK(same.kld == 0);
  CHECK(same.same_top);
  CHECK(same.delta_p == Approx(0.0).margin(1e-15));
  // Shifting all logits changes nothing.
  const std::vector<float> shifted{7.0f, 7.0f + std::log(3.0f)};
  CHECK(fidelity(p, shifted).kld == Approx(0.0).margin(1e-12));
  CHECK_THROWS_AS(fidelity(p, std::vector<float>{1, 2, 3}), vkq::InputError);
}

TEST_CASE("summary statistics", "[eval][metrics]") {
  Summary s;
  for (const double v : {4.0, 1.0, 3.0, 2.0, 10.0}) s.add(v);
  CHECK(s.mean() == Approx(4.0));
  CHECK(s.median() == Approx(3.0));
  CHECK(s.max() == 10.0);
  // numpy.quantile([1, 2, 3, 4, 10], 0.9) = 4 + 0.6 * 6 = 7.6
  CHECK(s.quantile(0.9) == Approx(7.6));
  CHECK(s.quantile(0.0) == 1.0);
  CHECK(s.quantile(1.0) == 10.0);
  const auto j = s.to_json();
  CHECK(j["n"] == 5);
  CHECK(j["p99"].get<double>() == Approx(4 + 0.96 * 6));
  CHECK(Summary().mean() == 0);
  CHECK_THROWS_AS(s.quantile(1.5), vkq::InputError);
}
