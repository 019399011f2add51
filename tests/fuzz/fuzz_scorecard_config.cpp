// libFuzzer target for the scorecard's TOML config (eval/scorecard_config.hpp:
// `vkq scorecard CONFIG.toml`). Input: the TOML text, read with no base
// folder (relative paths stay as written; "models:" paths are looked up in
// the models folders, which the fuzzer's names do not match). Refused with
// InputError, or accepted; an accepted config
//   - has at least one eval set, device and variant, unique variant names,
//     exactly one reference, which is a file;
//   - every recipe comes from a variant that is a file, every gate names
//     defined variants, allows a finite regression >= 0 and judges one
//     slice or each ("*"), never the aggregate;
//   - has bootstrap settings bootstrap_from_json accepts;
//   - survives the trip scorecard.json makes: gates and bootstrap settings
//     to JSON and back unchanged.
// Seeds: tests/fuzz/corpus/scorecard_config/ (the demo's config and smaller
// ones, written by tests/reliability/eval_fuzz_seeds.cpp).
#include <cmath>
#include <set>
#include <string>

#include "error.hpp"
#include "fuzz/fuzz_target.hpp"
#include "scorecard_config.hpp"

VKQ_FUZZ_TARGET(scorecard_config) {
  using namespace vkq;
  using namespace vkq::eval;
  ScorecardConfig cfg;
  try {
    cfg = parse_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.toml", "");
  } catch (const InputError&) {
    return;
  }
  expect(!cfg.eval_sets.empty() && !cfg.devices.empty() && !cfg.variants.empty(), "sets, devices and variants");
  std::set<std::string> names;
  size_t refs = 0;
  for (const auto& v : cfg.variants) {
    expect(names.insert(v.name).second, "variant names are unique");
    refs += v.reference;
  }
  expect(refs == 1, "exactly one reference");
  expect(cfg.reference().source != VariantSpec::Source::recipe, "the reference is a file");
  for (const auto& v : cfg.variants) {
    if (v.source != VariantSpec::Source::recipe) continue;
    const VariantSpec* from = cfg.find_variant(v.from);
    expect(from != nullptr && from->source != VariantSpec::Source::recipe, "a recipe comes from a file");
  }
  for (const auto& g : cfg.gates) {
    expect(std::isfinite(g.max_regression) && g.max_regression >= 0, "a gate allows a finite regression >= 0");
    expect(g.slice != "all", "no gate judges the aggregate");
    for (const auto& vn : g.variants) expect(cfg.find_variant(vn) != nullptr, "a gate names defined variants");
  }
  const auto gates = gates_from_json(gates_to_json(cfg.gates), "round trip");
  expect(gates.size() == cfg.gates.size(), "gates round trip: count");
  for (size_t i = 0; i < gates.size(); ++i) {
    const auto &a = gates[i], &b = cfg.gates[i];
    expect(a.dimension == b.dimension && a.metric == b.metric && a.slice == b.slice && a.variants == b.variants &&
               a.max_regression == b.max_regression && a.relative == b.relative && a.where == b.where,
           "gates round trip: fields");
  }
  const auto bs = bootstrap_from_json(bootstrap_to_json(cfg.bootstrap), "round trip");
  expect(bs.resamples == cfg.bootstrap.resamples && bs.confidence == cfg.bootstrap.confidence &&
             bs.seed == cfg.bootstrap.seed,
         "bootstrap settings round trip");
}
