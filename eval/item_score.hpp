// What one run of one item leaves behind, whatever produced it (a fresh run,
// the reference cache, a resumed journal, a scorecard shard read back): the
// per-item sums that metric.hpp aggregates, plus what a reader wants to see
// (options' log-likelihoods, the generated text).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootstrap.hpp"
#include "metric.hpp"

namespace vkq::eval {

struct ItemScore {
  // text: scored positions and sums over them
  uint32_t tokens = 0;
  double nll = 0, kld = 0, top1 = 0, delta_p = 0;
  // choice
  std::vector<double> loglik;  // per option
  bool correct = false, correct_norm = false;
  // generate
  std::string output;
  bool matched = false;
};

// The item's (numerator, denominator) for `m`, or nullopt when an item of
// `kind` does not produce m.
std::optional<Sample> metric_sample(ItemKind kind, const ItemScore& s, Metric m);

// {"tokens", "nll", ...}: only the fields of `kind`. Doubles are written so
// they read back bit for bit (nlohmann writes the shortest round-trip form).
nlohmann::json to_json(ItemKind kind, const ItemScore& s);
// InputError naming `where` for a missing or mistyped field.
ItemScore item_score_from_json(ItemKind kind, const nlohmann::json& j, const std::string& where);

// Timing of one run of an eval set on one device.
struct RunTiming {
  uint64_t prefill_tokens = 0;
  double prefill_s = 0;
  uint64_t decode_tokens = 0;
  double decode_s = 0;
  double prefill_tokens_per_s() const { return prefill_s > 0 ? double(prefill_tokens) / prefill_s : 0; }
  double decode_tokens_per_s() const { return decode_s > 0 ? double(decode_tokens) / decode_s : 0; }
};
nlohmann::json to_json(const RunTiming& t);
// A non-negative integer count (tokens, bytes) stored as a JSON number;
// InputError past 9e15 or below 0.
uint64_t count_from_json(const nlohmann::json& j, const char* key, const std::string& where);
RunTiming run_timing_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace vkq::eval
