// Eval sets (DESIGN.md, "Eval sets"): a folder with manifest.json and JSONL
// item files. The manifest names the set, its version and description, each
// data file with its sha256, and the slices and dimensions that items may
// use; each dimension lists the metrics it reports (metric.hpp).
//
// manifest.json:
//   {"schema": "vkq.evalset/1", "name": "stories-v1", "version": "1.0.0",
//    "description": "...",
//    "files": [{"path": "items.jsonl", "sha256": "<64 hex>"}],
//    "slices": [{"name": "dialogue", "description": "..."}],
//    "dimensions": [{"name": "fidelity", "description": "...", "metrics": ["kld", "top1"]}]}
// An item (one JSON object per line):
//   common:   "id" (unique in the set), "slice", "kind", "dimensions" (non-empty)
//   text:     "text"                          every token is scored
//   choice:   "context", "choices" (2..16 strings), "answer" (index)
//   generate: "prompt", "max_tokens" (1..256), optional "stop" (a string that
//             ends the continuation), "match": {"rule": "exact"|"prefix", "value": S}
//             | {"rule": "regex", "pattern": P} | {"rule": "json", "keys": [K...]}
// Unknown keys are refused (a typo must not silently drop a check). Every
// error names the file and line. The set's hash is the sha256 of the
// manifest's bytes, which list every data file's hash: two sets with the
// same hash have the same items.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "metric.hpp"

namespace vkq::eval {

enum class MatchRule { exact, prefix, regex, json };
const char* match_rule_name(MatchRule r);

struct MatchSpec {
  MatchRule rule = MatchRule::exact;
  std::string value;                   // exact, prefix: the expected text; regex: the pattern
  std::vector<std::string> keys;       // json: keys a top-level object must have
  std::shared_ptr<const std::regex> re;  // regex, compiled at load
};

struct EvalItem {
  std::string id, slice;
  ItemKind kind = ItemKind::text;
  std::vector<std::string> dimensions;
  std::string file;  // data file (relative to the set's folder) and 1-based line, for messages
  size_t line = 0;
  // text
  std::string text;
  // choice
  std::string context;
  std::vector<std::string> choices;
  uint32_t answer = 0;
  // generate
  std::string prompt, stop;
  uint32_t max_tokens = 0;
  MatchSpec match;

  std::string where() const;  // "items.jsonl:12 (id dlg-003)"
};

struct Slice {
  std::string name, description;
};

struct Dimension {
  std::string name, description;
  std::vector<Metric> metrics;
};

struct EvalSet {
  std::string name, version, description;
  std::string path;    // folder ("" for sets parsed from memory)
  std::string sha256;  // of manifest.json
  struct File {
    std::string path, sha256;
  };
  std::vector<File> files;
  std::vector<Slice> slices;
  std::vector<Dimension> dimensions;
  std::vector<EvalItem> items;

  const Dimension* find_dimension(const std::string& name) const;
  bool has_slice(const std::string& name) const;
};

// Limits on untrusted sets (a larger set is refused, not truncated).
inline constexpr size_t kMaxItems = 100000;
inline constexpr size_t kMaxLineBytes = 1 << 20;
inline constexpr size_t kMaxChoices = 16;
inline constexpr uint32_t kMaxGenerateTokens = 256;
inline constexpr size_t kMaxPatternBytes = 512;

// Loads `folder`/manifest.json and its files, checking every hash.
// InputError naming the file (and line) for anything wrong.
EvalSet load_eval_set(const std::string& folder);

// The same from memory (tests, fuzzing): `read` returns a data file's bytes
// by its manifest path (or throws InputError).
EvalSet parse_eval_set(std::string_view manifest, const std::function<std::string(const std::string&)>& read,
                       const std::string& origin);

// One JSONL item, checked against the set's slices and dimensions (used by
// parse_eval_set; public for the fuzz target).
EvalItem parse_item(std::string_view line, const EvalSet& set, const std::string& file, size_t line_no);

}  // namespace vkq::eval
