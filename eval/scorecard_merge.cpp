#include "scorecard_merge.hpp"

#include <cmath>
#include <set>

#include <fmt/format.h>

#include "error.hpp"
#include "reports.hpp"

namespace vkq::eval {
namespace {

std::string sets_signature(const Scorecard& s) {
  std::string sig;
  for (const auto& x : s.sets) sig += fmt::format("{} {} {}; ", x.name, x.version, x.sha256);
  return sig;
}

std::string variants_signature(const Scorecard& s) {
  std::string sig;
  for (const auto& v : s.variants) sig += fmt::format("{}{} {}; ", v.name, v.reference ? " (reference)" : "", v.sha256);
  return sig;
}

}  // namespace

Scorecard merge_scorecards(const std::vector<Scorecard>& shards, const std::vector<std::string>& names) {
  if (shards.empty()) throw InputError("merge: no shards");
  const Scorecard& first = shards[0];
  Scorecard m;
  m.name = first.name;
  m.config = first.config;
  m.variants = first.variants;
  m.sets = first.sets;
  m.gates = first.gates;
  m.bootstrap = first.bootstrap;
  m.accuracy = first.accuracy;
  nlohmann::json merged_from = nlohmann::json::array(), asked = nlohmann::json::array();
  std::set<std::string> ids;
  for (size_t i = 0; i < shards.size(); ++i) {
    const Scorecard& s = shards[i];
    if (sets_signature(s) != sets_signature(first))
      throw InputError(fmt::format("merge: {} was scored on eval sets {}but {} on {}", names[i], sets_signature(s),
                                   names[0], sets_signature(first)),
                       "shards must use the same eval-set versions (same sha256)");
    if (variants_signature(s) != variants_signature(first))
      throw InputError(fmt::format("merge: {} has variants {}but {} has {}", names[i], variants_signature(s), names[0],
                                   variants_signature(first)),
                       "shards must score the same model files");
    if (gates_to_json(s.gates) != gates_to_json(first.gates) || bootstrap_to_json(s.bootstrap) != bootstrap_to_json(first.bootstrap))
      throw InputError(fmt::format("merge: {} and {} have different gates or bootstrap settings", names[i], names[0]));
    for (const auto& d : s.devices) {
      if (!ids.insert(d.id).second)
        throw InputError(fmt::format("merge: device {} ({}) is in more than one shard ({} among them)", d.id, d.name,
                                     names[i]));
      m.devices.push_back(d);
    }
    for (const auto& u : s.units) m.units.push_back(u);
    merged_from.push_back({{"file", names[i]}, {"run", s.run}});
    if (s.config.contains("devices"))
      for (const auto& d : s.config["devices"]) asked.push_back(d);
  }
  m.config["devices"] = asked;
  m.run = {{"vkq_version", VKQ_VERSION}, {"merged_from", merged_from}};
  m.derive();
  return m;
}

Comparison compare_scorecards(const Scorecard& old_s, const Scorecard& new_s) {
  Comparison c;
  for (const auto& ns : new_s.sets) {
    const SetInfo* os = old_s.find_set(ns.name);
    if (os && os->sha256 != ns.sha256)
      throw InputError(fmt::format("compare: eval set {} is {} (sha256 {}) in OLD and {} (sha256 {}) in NEW", ns.name,
                                   os->version, os->sha256.substr(0, 12), ns.version, ns.sha256.substr(0, 12)),
                       "compare scorecards made with the same eval-set version");
  }
  auto label = [](const Unit& u) { return fmt::format("{} on {} over {}", u.variant, u.device, u.eval_set); };
  for (const auto& u : old_s.units)
    if (!new_s.find_unit(u.variant, u.device, u.eval_set)) c.only_old.push_back(label(u));
  for (const auto& nu : new_s.units) {
    const Unit* ou = old_s.find_unit(nu.variant, nu.device, nu.eval_set);
    if (!ou) {
      c.only_new.push_back(label(nu));
      continue;
    }
    const SetInfo& set = *new_s.find_set(nu.eval_set);
    bool is_ref = false;
    for (const auto& v : new_s.variants)
      if (v.name == nu.variant) is_ref = v.reference;
    for (const auto& dim : set.dimensions)
      for (const Metric m : dim.metrics) {
        const MetricInfo& mi = metric_info(m);
        for (const auto& slice : row_slices(set)) {
          const auto idx = row_items(set, dim.name, m, slice);
          if (idx.empty()) continue;
          const auto a = row_samples(nu, set, idx, m), b = row_samples(*ou, set, idx, m);
          CompareRow r{nu.variant, nu.device, nu.eval_set, slice, dim.name, m};
          r.old_value = ratio_statistic(b, mi.exp_of_ratio);
          r.new_value = ratio_statistic(a, mi.exp_of_ratio);
          r.delta = r.new_value - r.old_value;
          BootstrapOptions bo = new_s.bootstrap;
          bo.seed = row_seed(new_s.bootstrap.seed,
                             fmt::format("compare|{}|{}|{}|{}|{}|{}", r.variant, r.device, r.eval_set, slice, dim.name,
                                         metric_name(m)));
          r.delta_ci = paired_bootstrap_delta_ci(a, b, mi.exp_of_ratio, bo);
          r.regression_ci = mi.higher_is_better ? Interval{-r.delta_ci.hi, -r.delta_ci.lo} : r.delta_ci;
          if (slice == "all") {
            r.verdict = "aggregate";
          } else if (const GateSpec* g = select_gate(new_s.gates, nu.variant, is_ref, dim.name, m, slice, true)) {
            r.threshold = g->relative ? g->max_regression * std::fabs(r.old_value) : g->max_regression;
            r.verdict = r.regression_ci.lo > *r.threshold ? "regression" : "ok";
            ++c.gated;
            if (r.verdict == "regression") ++c.regressions;
          } else {
            r.verdict = "ungated";
          }
          c.rows.push_back(std::move(r));
        }
      }
  }
  return c;
}

std::string render_comparison(const Comparison& c) {
  std::string o = fmt::format("## vkq scorecard compare: {}\n\n{} gated rows compared, {} regressed beyond their gate.\n\n",
                              c.regressions ? "❌ REGRESSION" : "✅ no regression", c.gated, c.regressions);
  o += "| variant | device | eval set | slice | metric | old | new | Δ [CI] | allowed | verdict |\n"
       "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : c.rows) {
    if (r.verdict == "ungated" || r.verdict == "aggregate") continue;
    o += fmt::format("| {} | {} | {} | {} | {}/{} | {} | {} | {} [{}, {}] | {} | {} |\n", r.variant, r.device,
                     r.eval_set, r.slice, r.dimension, metric_name(r.metric), format_value(r.metric, r.old_value),
                     format_value(r.metric, r.new_value), format_delta(r.metric, r.delta),
                     format_delta(r.metric, r.delta_ci.lo), format_delta(r.metric, r.delta_ci.hi),
                     r.threshold ? format_delta(r.metric, *r.threshold) : "—",
                     r.verdict == "regression" ? "**regression**" : r.verdict);
  }
  for (const auto& s : c.only_old) o += fmt::format("\nonly in OLD: {}", s);
  for (const auto& s : c.only_new) o += fmt::format("\nonly in NEW: {}", s);
  if (!c.only_old.empty() || !c.only_new.empty()) o += "\n";
  return o;
}

nlohmann::json to_json(const Comparison& c) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : c.rows)
    rows.push_back({{"variant", r.variant},
                    {"device", r.device},
                    {"eval_set", r.eval_set},
                    {"slice", r.slice},
                    {"dimension", r.dimension},
                    {"metric", metric_name(r.metric)},
                    {"old", r.old_value},
                    {"new", r.new_value},
                    {"delta", r.delta},
                    {"delta_ci", {r.delta_ci.lo, r.delta_ci.hi}},
                    {"regression_ci", {r.regression_ci.lo, r.regression_ci.hi}},
                    {"threshold", r.threshold ? nlohmann::json(*r.threshold) : nlohmann::json(nullptr)},
                    {"verdict", r.verdict}});
  return {{"schema", "vkq.scorecard-compare/1"}, {"verdict", c.regressions ? "regression" : "pass"},
          {"gated_rows", c.gated},             {"regressions", c.regressions},
          {"only_old", c.only_old},           {"only_new", c.only_new},
          {"rows", rows}};
}

}  // namespace vkq::eval
