// The scorecard document: what was run (variants, devices, eval sets,
// gates), the per-item results of every (variant, device, eval set) unit,
// and what is derived from them alone: one row per (variant, device, eval
// set, slice, dimension, metric) with value, count, bootstrap interval,
// delta against the reference on the same device (paired bootstrap
// interval) and the gate verdict; fit rows (bytes, memory, speed); the
// overall verdict. Because rows derive from units alone, a document read
// back from scorecard.json (merge, compare) gives the same rows as the run
// that wrote it, and merged shards give the rows of one run over all their
// devices.
//
// Verdicts: "pass" / "fail" (a gate judged the row), "ungated", "reference"
// (the reference's own rows), "aggregate" (slice "all": shown, never gated).
// A gate fails only when the whole interval of the regression lies beyond
// the allowed regression.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootstrap.hpp"
#include "device_list.hpp"
#include "eval_set.hpp"
#include "item_score.hpp"
#include "scorecard_config.hpp"

namespace vkq::eval {

// What a report needs of an eval set: its identity and item table, no texts.
struct SetInfo {
  std::string name, version, sha256, description, path;
  std::vector<Slice> slices;
  std::vector<Dimension> dimensions;
  struct Item {
    std::string id, slice;
    ItemKind kind = ItemKind::text;
    std::vector<std::string> dimensions;
  };
  std::vector<Item> items;
  static SetInfo of(const EvalSet& s);
  const Dimension* find_dimension(const std::string& n) const;
};

struct VariantInfo {
  std::string name, source, sha256;
  bool reference = false;
  uint64_t bytes = 0;
};

struct MemoryFigures {
  bool known = false;   // false on the CPU reference
  uint64_t predicted = 0;  // the Vulkan forward plan's peak_bytes()
  uint64_t measured = 0;   // the device's allocation peak for the session
};

// One variant on one device over one eval set.
struct Unit {
  std::string variant, device, eval_set;  // names; device id
  std::vector<ItemScore> items;           // the set's order
  RunTiming timing;
  MemoryFigures memory;
  double load_s = 0;
  bool from_reference_cache = false;
};

struct GateResult {
  double threshold = 0;   // allowed regression in the metric's units
  double max_regression = 0;
  bool relative = false;
  std::string where;      // the gate in the config
};

struct Row {
  std::string variant, device, eval_set, slice, dimension;
  Metric metric = Metric::kld;
  double value = 0;
  Interval ci;
  size_t n = 0;           // items
  double weight = 0;      // tokens for token metrics, items otherwise
  double reference = 0;   // the reference's value on the same device
  double delta = 0;       // value - reference
  Interval delta_ci;
  Interval regression_ci;  // delta oriented so that > 0 is worse
  std::optional<GateResult> gate;
  std::string verdict;
  std::string key() const;  // "variant|device|set|slice|dimension|metric"
};

struct FitRow {
  std::string variant, device;
  uint64_t model_bytes = 0;
  MemoryFigures memory;
  RunTiming timing;  // summed over eval sets
  double load_s = 0;
};

struct Scorecard {
  nlohmann::json run;     // vkq version, times, command, resumed/merged notes
  nlohmann::json config;  // as configured (variants' sources, devices asked for, sets, gates)
  std::string name;
  std::vector<VariantInfo> variants;  // config order; exactly one reference
  std::vector<DeviceEntry> devices;
  std::vector<SetInfo> sets;
  std::vector<GateSpec> gates;
  BootstrapOptions bootstrap;
  std::string accuracy = "task/acc_norm";
  std::vector<Unit> units;

  // Derived by derive().
  std::vector<Row> rows;
  std::vector<FitRow> fit;
  std::string verdict;    // "pass" or "fail"
  size_t gated_rows = 0, failed_rows = 0;

  const VariantInfo& reference() const;
  const Unit* find_unit(const std::string& variant, const std::string& device, const std::string& set) const;
  const SetInfo* find_set(const std::string& name) const;
  void derive();
};

// The gate that judges (variant, dimension, metric, slice), if any: the most
// specific (a named slice over "*", a named metric over the whole
// dimension), then the strictest. `include_reference`: gates without a
// variant list also apply to the reference (for compare).
const GateSpec* select_gate(const std::vector<GateSpec>& gates, const std::string& variant, bool is_reference,
                            const std::string& dimension, Metric metric, const std::string& slice,
                            bool include_reference = false);

// Item indices of `set` that feed (dimension, metric, slice); slice "all"
// takes every slice.
std::vector<size_t> row_items(const SetInfo& set, const std::string& dimension, Metric metric,
                              const std::string& slice);

// The per-item samples of `u` at `idx` for metric m.
std::vector<Sample> row_samples(const Unit& u, const SetInfo& set, const std::vector<size_t>& idx, Metric m);
// The set's slices, then "all".
std::vector<std::string> row_slices(const SetInfo& set);

// InputError for a gate whose dimension, metric or slice no eval set has.
void check_gates(const std::vector<GateSpec>& gates, const std::vector<SetInfo>& sets);

// scorecard.json ("schema": "vkq.scorecard/1") and back.
nlohmann::ordered_json to_json(const Scorecard& s);
nlohmann::json unit_to_json(const Unit& u, const SetInfo& set);
Unit unit_from_json(const nlohmann::json& j, const SetInfo& set, const std::string& where);
// Reads a document written by to_json; derives its rows again. InputError
// naming `where` for anything malformed or of another schema.
Scorecard scorecard_from_json(const nlohmann::json& j, const std::string& where);
Scorecard read_scorecard(const std::string& path);

}  // namespace vkq::eval
