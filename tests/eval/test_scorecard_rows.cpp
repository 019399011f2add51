// Rows, gates and verdicts from synthetic units (no model): a gate fails only
// when the whole interval lies beyond its limit, the aggregate never gates,
// relative limits scale with the reference; the JSON round trip, merge and
// compare give what one run would.
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "reports.hpp"
#include "scorecard.hpp"
#include "scorecard_merge.hpp"

using namespace vkq;
using namespace vkq::eval;
using Catch::Approx;
using Catch::Matchers::ContainsSubstring;

namespace {

// 20 choice items in slices a and b (10 each), dimension "grammar";
// 10 text items in slice a, dimension "fluency".
SetInfo test_set() {
  SetInfo s;
  s.name = "set";
  s.version = "1";
  s.sha256 = std::string(64, 'a');
  s.slices = {{"a", ""}, {"b", ""}};
  s.dimensions = {{"grammar", "", {Metric::acc_norm}}, {"fluency", "", {Metric::perplexity}}};
  for (int i = 0; i < 20; ++i) s.items.push_back({"c" + std::to_string(i), i < 10 ? "a" : "b", ItemKind::choice, {"grammar"}});
  for (int i = 0; i < 10; ++i) s.items.push_back({"t" + std::to_string(i), "a", ItemKind::text, {"fluency"}});
  return s;
}

// wrong_a / wrong_b of the slice-a / slice-b choice items wrong; text nll
// per token `nll`.
Unit unit(const std::string& variant, const std::string& device, int wrong_a, int wrong_b, double nll) {
  Unit u{variant, device, "set"};
  for (int i = 0; i < 20; ++i) {
    ItemScore s;
    s.loglik = {-1, -2};
    s.correct = s.correct_norm = i < 10 ? i >= wrong_a : (i - 10) >= wrong_b;
    u.items.push_back(s);
  }
  for (int i = 0; i < 10; ++i) {
    ItemScore s;
    s.tokens = 20;
    s.nll = 20 * (nll + 0.01 * i);
    u.items.push_back(s);
  }
  return u;
}

DeviceEntry device(const std::string& id) { return {id, id, id, "test", "driver", "", ""}; }

Scorecard scorecard(std::vector<std::string> devices) {
  Scorecard s;
  s.name = "t";
  s.run = {{"vkq_version", "test"}};
  s.config = nlohmann::json::object();
  s.variants = {{"ref", "gguf", "r", true, 100}, {"mild", "gguf", "m", false, 50}, {"bad", "gguf", "b", false, 25}};
  s.sets = {test_set()};
  s.bootstrap = {1000, 0.95, 3};
  GateSpec g;
  g.dimension = "grammar";
  g.max_regression = 0.2;
  g.slice = "a";
  GateSpec p;
  p.dimension = "fluency";
  p.metric = Metric::perplexity;
  p.max_regression = 0.5;
  p.relative = true;
  s.gates = {g, p};
  for (const auto& d : devices) {
    s.devices.push_back(device(d));
    s.units.push_back(unit("ref", d, 0, 0, 1.0));
    s.units.push_back(unit("mild", d, 1, 9, 1.05));  // slice b is ungated: its collapse does not fail
    s.units.push_back(unit("bad", d, 7, 0, 2.0));
  }
  s.derive();
  return s;
}

const Row& row(const Scorecard& s, const std::string& v, const std::string& d, const std::string& slice, Metric m) {
  for (const auto& r : s.rows)
    if (r.variant == v && r.device == d && r.slice == slice && r.metric == m) return r;
  FAIL("no row " << v << " " << d << " " << slice);
  throw;
}

}  // namespace

TEST_CASE("gates: a row fails only when its whole regression interval is beyond the limit", "[eval][gates]") {
  const auto s = scorecard({"cpu"});
  const Row& mild = row(s, "mild", "cpu", "a", Metric::acc_norm);
  CHECK(mild.value == Approx(0.9));
  CHECK(mild.delta == Approx(-0.1));
  CHECK(mild.regression_ci.lo <= 0.2);
  CHECK(mild.verdict == "pass");
  const Row& bad = row(s, "bad", "cpu", "a", Metric::acc_norm);
  CHECK(bad.delta == Approx(-0.7));
  CHECK(bad.regression_ci.lo > 0.2);
  CHECK(bad.verdict == "fail");
  REQUIRE(bad.gate);
  CHECK(bad.gate->threshold == Approx(0.2));
  // Slice b is ungated, and "all" only shows the aggregate.
  CHECK(row(s, "mild", "cpu", "b", Metric::acc_norm).verdict == "ungated");
  CHECK(row(s, "mild", "cpu", "b", Metric::acc_norm).delta == Approx(-0.9));
  CHECK(row(s, "mild", "cpu", "all", Metric::acc_norm).verdict == "aggregate");
  CHECK(row(s, "ref", "cpu", "a", Metric::acc_norm).verdict == "reference");
  // Relative limit: 50% of the reference's perplexity.
  const Row& ppl = row(s, "bad", "cpu", "a", Metric::perplexity);
  CHECK(ppl.reference == Approx(std::exp(1.045)));
  CHECK(ppl.value == Approx(std::exp(2.045)));
  CHECK(ppl.gate->threshold == Approx(0.5 * std::exp(1.045)));
  CHECK(ppl.verdict == "fail");
  CHECK(row(s, "mild", "cpu", "a", Metric::perplexity).verdict == "pass");
  CHECK(s.verdict == "fail");
  CHECK(s.failed_rows == 2);
  const Row* worst = worst_row(s, "bad", "cpu");
  REQUIRE(worst);
  CHECK(worst->verdict == "fail");
  // The Markdown report starts with the verdict.
  CHECK(render_markdown(s).rfind("## vkq scorecard — t: ❌ FAIL", 0) == 0);
}

TEST_CASE("gates: the most specific gate judges a row", "[eval][gates]") {
  GateSpec any{"grammar", std::nullopt, "*", {}, 0.5, false, "g1"};
  GateSpec slice_a{"grammar", std::nullopt, "a", {}, 0.1, false, "g2"};
  GateSpec only_x{"grammar", Metric::acc_norm, "*", {"x"}, 0.01, false, "g3"};
  const std::vector<GateSpec> gates = {any, slice_a, only_x};
  CHECK(select_gate(gates, "v", false, "grammar", Metric::acc_norm, "a")->where == "g2");
  CHECK(select_gate(gates, "v", false, "grammar", Metric::acc_norm, "b")->where == "g1");
  CHECK(select_gate(gates, "x", false, "grammar", Metric::acc_norm, "b")->where == "g3");
  CHECK(select_gate(gates, "v", false, "grammar", Metric::acc_norm, "all") == nullptr);
  CHECK(select_gate(gates, "ref", true, "grammar", Metric::acc_norm, "a") == nullptr);
  CHECK(select_gate(gates, "ref", true, "grammar", Metric::acc_norm, "a", true)->where == "g2");
  CHECK(select_gate(gates, "v", false, "fluency", Metric::perplexity, "a") == nullptr);
}

TEST_CASE("scorecard JSON: reading a document back derives the same rows", "[eval][scorecard]") {
  const auto s = scorecard({"cpu", "vk-1"});
  const auto j = to_json(s);
  CHECK(j["schema"] == "vkq.scorecard/1");
  CHECK(j["verdict"] == "fail");
  const auto back = scorecard_from_json(nlohmann::json::parse(j.dump()), "doc");
  CHECK(to_json(back)["rows"] == j["rows"]);
  CHECK(to_json(back)["units"] == j["units"]);
  auto broken = nlohmann::json::parse(j.dump());
  broken["units"][0]["items"].erase(0);
  CHECK_THROWS_AS(scorecard_from_json(broken, "doc"), InputError);
  broken = nlohmann::json::parse(j.dump());
  broken["schema"] = "other/1";
  CHECK_THROWS_AS(scorecard_from_json(broken, "doc"), InputError);
}

TEST_CASE("merge: shards from two devices give the rows of one run over both", "[eval][merge]") {
  const auto both = scorecard({"cpu", "vk-1"});
  const auto a = scorecard({"cpu"}), b = scorecard({"vk-1"});
  const auto m = merge_scorecards({a, b}, {"a.json", "b.json"});
  CHECK(to_json(m)["rows"] == to_json(both)["rows"]);
  CHECK(to_json(m)["units"] == to_json(both)["units"]);
  CHECK(m.verdict == both.verdict);
  CHECK(m.devices.size() == 2);
  // Refused: the same device twice, another eval-set version, other models.
  CHECK_THROWS_WITH(merge_scorecards({a, a}, {"a.json", "a2.json"}), ContainsSubstring("more than one shard"));
  auto other = b;
  other.sets[0].sha256 = std::string(64, 'b');
  CHECK_THROWS_WITH(merge_scorecards({a, other}, {"a.json", "b.json"}), ContainsSubstring("eval sets"));
  other = b;
  other.variants[1].sha256 = "zz";
  CHECK_THROWS_WITH(merge_scorecards({a, other}, {"a.json", "b.json"}), ContainsSubstring("variants"));
}

TEST_CASE("compare: paired deltas between two scorecards, judged by the new one's gates", "[eval][compare]") {
  auto old_s = scorecard({"cpu"});
  auto new_s = scorecard({"cpu"});
  auto same = compare_scorecards(old_s, new_s);
  CHECK(same.regressions == 0);
  CHECK(same.gated > 0);
  // The reference gets worse on slice a in NEW: a regression (compare gates the reference too).
  new_s.units[0] = unit("ref", "cpu", 8, 0, 1.0);
  new_s.derive();
  const auto c = compare_scorecards(old_s, new_s);
  CHECK(c.regressions >= 1);
  bool found = false;
  for (const auto& r : c.rows)
    if (r.variant == "ref" && r.slice == "a" && r.metric == Metric::acc_norm) {
      found = true;
      CHECK(r.delta == Approx(-0.8));
      CHECK(r.verdict == "regression");
    }
  CHECK(found);
  CHECK_THAT(render_comparison(c), ContainsSubstring("REGRESSION"));
  new_s.sets[0].sha256 = std::string(64, 'c');
  CHECK_THROWS_AS(compare_scorecards(old_s, new_s), InputError);
}
