// libFuzzer target for scorecard.json as `vkq scorecard compare` and `merge`
// read it (eval/scorecard.hpp: scorecard_from_json, which derives the rows
// again). Input: the JSON text. Refused with InputError, or accepted; an
// accepted document
//   - writes back (to_json) into a document that reads again to the same
//     rows: keys, values, verdicts, and the same overall verdict;
//   - compared with itself finds no regression;
//   - merges as a single shard into the same rows;
//   - renders as Markdown and HTML.
// Documents asking for more than 2,000 bootstrap resamples are skipped: the
// rows cost resamples x items each, which is slow, not wrong (the config
// allows up to 1,000,000).
// Seeds: tests/fuzz/corpus/scorecard_json/ (small synthetic scorecards,
// written by tests/reliability/eval_fuzz_seeds.cpp).
#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "fuzz/fuzz_target.hpp"
#include "reports.hpp"
#include "scorecard.hpp"
#include "scorecard_merge.hpp"

namespace {

bool same_rows(const vkq::eval::Scorecard& a, const vkq::eval::Scorecard& b) {
  if (a.rows.size() != b.rows.size() || a.verdict != b.verdict) return false;
  auto same = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
  for (size_t i = 0; i < a.rows.size(); ++i) {
    const auto &x = a.rows[i], &y = b.rows[i];
    if (x.key() != y.key() || x.verdict != y.verdict || x.n != y.n || !same(x.value, y.value) ||
        !same(x.delta, y.delta) || !same(x.regression_ci.lo, y.regression_ci.lo) ||
        !same(x.regression_ci.hi, y.regression_ci.hi))
      return false;
  }
  return true;
}

}  // namespace

VKQ_FUZZ_TARGET(scorecard_json) {
  using namespace vkq;
  using namespace vkq::eval;
  const auto j = nlohmann::json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size,
                                       nullptr, false);
  if (j.is_discarded()) return;
  if (j.is_object() && j.contains("bootstrap") && j["bootstrap"].is_object() &&
      j["bootstrap"].contains("resamples") && j["bootstrap"]["resamples"].is_number() &&
      j["bootstrap"]["resamples"].get<double>() > 2000)
    return;
  Scorecard s;
  try {
    s = scorecard_from_json(j, "fuzz.json");
  } catch (const InputError&) {
    return;
  }
  const Scorecard again = scorecard_from_json(nlohmann::json::parse(to_json(s).dump()), "fuzz.json (written back)");
  expect(same_rows(s, again), "written back, the document reads to the same rows");
  const Comparison c = compare_scorecards(s, s);
  expect(c.regressions == 0, "a scorecard compared with itself has no regression");
  (void)render_comparison(c);
  try {
    const Scorecard m = merge_scorecards({s}, {"fuzz.json"});
    expect(same_rows(s, m), "one shard merges into its own rows");
  } catch (const InputError&) {
    // merge has rules of its own (e.g. the units must cover every variant)
  }
  (void)render_markdown(s);
  (void)render_html(s);
}
