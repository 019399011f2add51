// The reference variant's results on one device, kept on disk so that the
// reference runs once per device (and not again in later scorecard runs
// with the same reference model, eval set, device and driver): its per-item
// scores, timing and memory, and its top-k log-probabilities per scored
// position (topk_fidelity.hpp), which later variants' fidelity reads.
//
// File (little-endian), under $VKQ_CACHE_DIR/scorecard/reference/<key>.bin:
//   "VKQREF02"                                 8 bytes
//   u64 J, then J bytes of JSON                {"key", "items": [...], "timing", "memory"}
//   u64 P (positions), u32 K (entries per position)
//   P x { f64 lse, K x i32 token id, K x f32 logit }
// A file whose sizes do not add up exactly is refused (and rebuilt by the
// runner). Written atomically (temporary file, then rename).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "topk_fidelity.hpp"

namespace vkq::eval {

struct ReferenceRecord {
  std::string key;
  nlohmann::json unit;  // the unit's JSON (Unit::to_json: items, timing, memory)
  std::vector<TopK> topk;
};

void write_reference_cache(const std::string& path, const ReferenceRecord& r);
// nullopt when the file is absent; InputError naming the file when it is
// damaged or its key differs.
std::optional<ReferenceRecord> read_reference_cache(const std::string& path, const std::string& expected_key);

}  // namespace vkq::eval
