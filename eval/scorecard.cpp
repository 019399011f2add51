#include "scorecard.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq::eval {

SetInfo SetInfo::of(const EvalSet& s) {
  SetInfo i{s.name, s.version, s.sha256, s.description, s.path, s.slices, s.dimensions, {}};
  for (const auto& it : s.items) i.items.push_back({it.id, it.slice, it.kind, it.dimensions});
  return i;
}

const Dimension* SetInfo::find_dimension(const std::string& n) const {
  for (const auto& d : dimensions)
    if (d.name == n) return &d;
  return nullptr;
}

std::string Row::key() const {
  return fmt::format("{}|{}|{}|{}|{}|{}", variant, device, eval_set, slice, dimension, metric_name(metric));
}

const VariantInfo& Scorecard::reference() const {
  for (const auto& v : variants)
    if (v.reference) return v;
  throw InputError("the scorecard has no reference variant");
}

const Unit* Scorecard::find_unit(const std::string& variant, const std::string& device, const std::string& set) const {
  for (const auto& u : units)
    if (u.variant == variant && u.device == device && u.eval_set == set) return &u;
  return nullptr;
}

const SetInfo* Scorecard::find_set(const std::string& n) const {
  for (const auto& s : sets)
    if (s.name == n) return &s;
  return nullptr;
}

const GateSpec* select_gate(const std::vector<GateSpec>& gates, const std::string& variant, bool is_reference,
                            const std::string& dimension, Metric metric, const std::string& slice,
                            bool include_reference) {
  if (slice == "all") return nullptr;
  const GateSpec* best = nullptr;
  int best_rank = -1;
  for (const auto& g : gates) {
    if (g.dimension != dimension) continue;
    if (g.metric && *g.metric != metric) continue;
    if (g.slice != "*" && g.slice != slice) continue;
    if (g.variants.empty()) {
      if (is_reference && !include_reference) continue;
    } else if (std::find(g.variants.begin(), g.variants.end(), variant) == g.variants.end()) {
      continue;
    }
    const int rank = (g.slice != "*" ? 2 : 0) + (g.metric ? 1 : 0);
    // The strictest among equally specific gates; relative and absolute
    // thresholds cannot be ordered without the value, so the first wins.
    if (rank > best_rank || (rank == best_rank && best->relative == g.relative && g.max_regression < best->max_regression)) {
      best = &g;
      best_rank = rank;
    }
  }
  return best;
}

std::vector<size_t> row_items(const SetInfo& set, const std::string& dimension, Metric metric, const std::string& slice) {
  std::vector<size_t> out;
  const ItemKind kind = metric_info(metric).kind;
  for (size_t i = 0; i < set.items.size(); ++i) {
    const auto& it = set.items[i];
    if (it.kind != kind || (slice != "all" && it.slice != slice)) continue;
    if (std::find(it.dimensions.begin(), it.dimensions.end(), dimension) == it.dimensions.end()) continue;
    out.push_back(i);
  }
  return out;
}

void check_gates(const std::vector<GateSpec>& gates, const std::vector<SetInfo>& sets) {
  for (const auto& g : gates) {
    bool dim = false, met = !g.metric, sl = g.slice == "*";
    for (const auto& s : sets) {
      const Dimension* d = s.find_dimension(g.dimension);
      if (!d) continue;
      dim = true;
      if (g.metric) met = met || std::find(d->metrics.begin(), d->metrics.end(), *g.metric) != d->metrics.end();
      for (const auto& x : s.slices) sl = sl || x.name == g.slice;
    }
    if (!dim) throw InputError(fmt::format("{}: gate on dimension \"{}\", which no eval set declares", g.where, g.dimension));
    if (!met)
      throw InputError(fmt::format("{}: gate on metric \"{}\", which dimension \"{}\" does not report", g.where,
                                   metric_name(*g.metric), g.dimension));
    if (!sl) throw InputError(fmt::format("{}: gate on slice \"{}\", which no eval set declares", g.where, g.slice));
  }
}

std::vector<Sample> row_samples(const Unit& u, const SetInfo& set, const std::vector<size_t>& idx, Metric m) {
  std::vector<Sample> s;
  s.reserve(idx.size());
  for (const size_t i : idx) s.push_back(*metric_sample(set.items[i].kind, u.items[i], m));
  return s;
}

std::vector<std::string> row_slices(const SetInfo& set) {
  std::vector<std::string> slices;
  for (const auto& s : set.slices) slices.push_back(s.name);
  slices.push_back("all");
  return slices;
}

namespace {

Interval oriented(const Interval& delta, bool higher_is_better) {
  return higher_is_better ? Interval{-delta.hi, -delta.lo} : delta;
}

void add_fit(std::vector<FitRow>& fit, const Unit& u, uint64_t bytes) {
  for (auto& f : fit)
    if (f.variant == u.variant && f.device == u.device) {
      f.timing.prefill_tokens += u.timing.prefill_tokens;
      f.timing.prefill_s += u.timing.prefill_s;
      f.timing.decode_tokens += u.timing.decode_tokens;
      f.timing.decode_s += u.timing.decode_s;
      f.load_s += u.load_s;
      if (u.memory.known) {
        f.memory.known = true;
        f.memory.predicted = std::max(f.memory.predicted, u.memory.predicted);
        f.memory.measured = std::max(f.memory.measured, u.memory.measured);
      }
      return;
    }
  fit.push_back(FitRow{u.variant, u.device, bytes, u.memory, u.timing, u.load_s});
}

}  // namespace

void Scorecard::derive() {
  rows.clear();
  fit.clear();
  gated_rows = failed_rows = 0;
  const VariantInfo& ref = reference();
  for (const auto& d : devices) {
    for (const auto& v : variants) {
      for (const auto& set : sets) {
        const Unit* u = find_unit(v.name, d.id, set.name);
        const Unit* r = find_unit(ref.name, d.id, set.name);
        if (!u || !r) continue;
        add_fit(fit, *u, v.bytes);
        for (const auto& dim : set.dimensions) {
          for (const Metric m : dim.metrics) {
            const MetricInfo& mi = metric_info(m);
            for (const auto& slice : row_slices(set)) {
              const auto idx = row_items(set, dim.name, m, slice);
              if (idx.empty()) continue;
              Row row{v.name, d.id, set.name, slice, dim.name, m};
              const auto sv = row_samples(*u, set, idx, m), sr = row_samples(*r, set, idx, m);
              const std::string key = row.key();
              BootstrapOptions bo = bootstrap;
              row.value = ratio_statistic(sv, mi.exp_of_ratio);
              bo.seed = row_seed(bootstrap.seed, key + "|value");
              row.ci = bootstrap_ci(sv, mi.exp_of_ratio, bo);
              row.n = idx.size();
              for (const auto& s : sv) row.weight += s.den;
              row.reference = ratio_statistic(sr, mi.exp_of_ratio);
              row.delta = row.value - row.reference;
              bo.seed = row_seed(bootstrap.seed, key + "|delta");
              row.delta_ci = paired_bootstrap_delta_ci(sv, sr, mi.exp_of_ratio, bo);
              row.regression_ci = oriented(row.delta_ci, mi.higher_is_better);
              if (v.reference) {
                row.verdict = "reference";
              } else if (slice == "all") {
                row.verdict = "aggregate";
              } else if (const GateSpec* g = select_gate(gates, v.name, false, dim.name, m, slice)) {
                GateResult gr{g->relative ? g->max_regression * std::fabs(row.reference) : g->max_regression,
                              g->max_regression, g->relative, g->where};
                row.gate = gr;
                row.verdict = row.regression_ci.lo > gr.threshold ? "fail" : "pass";
                ++gated_rows;
                if (row.verdict == "fail") ++failed_rows;
              } else {
                row.verdict = "ungated";
              }
              rows.push_back(std::move(row));
            }
          }
        }
      }
    }
  }
  verdict = failed_rows ? "fail" : "pass";
}

}  // namespace vkq::eval
