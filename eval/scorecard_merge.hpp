// Combining scorecards:
//   merge    shards produced on different machines (CI runners, one device
//            kind each) into one report: the same variants (by hash), eval
//            sets (by hash), gates and bootstrap settings, distinct devices.
//            The merged rows are those one run over all the shards' devices
//            gives, because rows derive per device from units alone.
//   compare  OLD against NEW (e.g. main's scorecard and a PR's): for each
//            (variant, device, eval set, slice, metric) in both, the paired
//            bootstrap interval of NEW - OLD over the same items, judged by
//            NEW's gates (here a gate without a variant list also covers the
//            reference: a driver change that hurts the reference counts).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scorecard.hpp"

namespace vkq::eval {

// InputError naming the shards when they cannot be merged.
Scorecard merge_scorecards(const std::vector<Scorecard>& shards, const std::vector<std::string>& names);

struct CompareRow {
  std::string variant, device, eval_set, slice, dimension;
  Metric metric = Metric::kld;
  double old_value = 0, new_value = 0, delta = 0;
  Interval delta_ci, regression_ci;
  std::optional<double> threshold;
  std::string verdict;  // "regression", "ok", "ungated", "aggregate"
};

struct Comparison {
  std::vector<CompareRow> rows;
  std::vector<std::string> only_old, only_new;  // "variant on device over set"
  size_t gated = 0, regressions = 0;
};

// InputError when an eval set in both has different hashes (items cannot be paired).
Comparison compare_scorecards(const Scorecard& old_s, const Scorecard& new_s);
std::string render_comparison(const Comparison& c);
nlohmann::json to_json(const Comparison& c);

}  // namespace vkq::eval
