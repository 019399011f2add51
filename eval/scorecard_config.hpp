// The scorecard's TOML config: what to score, where, and what may not
// regress. Relative paths are relative to the config file's folder; a path
// "models:NAME" is looked up in the models folders (model_paths.hpp).
//
//   name = "stories260K demo"
//   eval_sets = ["sets/stories-v1"]
//   devices = ["all", "cpu"]          # "all" Vulkan devices, indices, name substrings, "cpu"
//
//   [bootstrap]                       # optional
//   resamples = 1000                  # 10 .. 1000000
//   confidence = 0.95
//   seed = 1
//
//   [report]                          # optional
//   accuracy = "task/acc_norm"        # the y axis of the accuracy-vs-bytes chart
//
//   [[variant]]                       # exactly one has reference = true
//   name = "f32"
//   reference = true
//   path = "model.gguf"               # a GGUF file, or
//   checkpoint = "models:stories260K.bin"   # a llama2.c checkpoint
//   tokenizer = "models:tok512.bin"         #   and its tokenizer, converted to F32 GGUF
//
//   [[variant]]                       # a recipe, quantized on the fly
//   name = "gptq-q4_0"
//   from = "f32"                      # another variant (a file, not a recipe)
//   method = "gptq"                   # rtn, gptq, awq
//   type = "q4_0"                     # q4_0, q4_1, q8_0
//   calib = "calib.txt"               # gptq, awq: calibration text
//   samples = 16                      # optional: calibration windows, tokens per window, seed
//   seq_len = 128
//   seed = 0
//
//   [[gate]]                          # the largest allowed regression against the reference
//   dimension = "fidelity"
//   metric = "top1"                   # optional: default every metric of the dimension
//   slice = "*"                       # optional: "*" (each slice on its own, the default) or a slice
//   variants = ["rtn-q4_0"]           # optional: default every variant but the reference
//   max_regression = 0.05             # absolute, in the metric's units, or
//   max_regression_rel = 0.10         # relative to the reference's value
// A gate judges one row (variant, device, eval set, slice, metric) on the
// paired bootstrap interval of the regression; it never judges the
// aggregate over slices.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "bootstrap.hpp"
#include "ggml_types.hpp"
#include "metric.hpp"
#include "quantize.hpp"

namespace vkq::eval {

struct VariantSpec {
  enum class Source { gguf, checkpoint, recipe };
  std::string name;
  bool reference = false;
  Source source = Source::gguf;
  std::string path;       // gguf: the file; checkpoint: the .bin (resolved)
  std::string tokenizer;  // checkpoint
  // recipe
  std::string from;
  quant::Method method = quant::Method::rtn;
  GgmlType type = GgmlType::Q4_0;
  std::string calib;  // resolved
  uint32_t samples = 16, seq_len = 128;
  uint64_t seed = 0;
};

struct GateSpec {
  std::string dimension;
  std::optional<Metric> metric;    // nullopt: every metric of the dimension
  std::string slice = "*";
  std::vector<std::string> variants;  // empty: every variant but the reference
  double max_regression = 0;
  bool relative = false;
  std::string where;  // "demo.toml:41" for messages
};

struct ScorecardConfig {
  std::string path;  // the file ("" for the built-in demo read from memory)
  std::string name;
  std::vector<VariantSpec> variants;
  std::vector<std::string> devices;
  std::vector<std::string> eval_sets;  // folders, resolved
  std::vector<GateSpec> gates;
  BootstrapOptions bootstrap{1000, 0.95, 1};
  std::string accuracy = "task/acc_norm";

  const VariantSpec& reference() const;
  const VariantSpec* find_variant(const std::string& name) const;
};

// InputError naming the file and line for anything wrong.
ScorecardConfig load_config(const std::string& path);
// From memory; `base_dir` resolves relative paths.
ScorecardConfig parse_config(std::string_view toml, const std::string& origin, const std::string& base_dir);

// Gates and bootstrap settings as they go into scorecard.json (and back,
// for `compare` and `merge`).
nlohmann::json gates_to_json(const std::vector<GateSpec>& g);
std::vector<GateSpec> gates_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json bootstrap_to_json(const BootstrapOptions& b);
BootstrapOptions bootstrap_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json variant_to_json(const VariantSpec& v);

// "q4_0" -> Q4_0 for the types a recipe may ask for.
std::optional<GgmlType> parse_recipe_type(const std::string& s);

}  // namespace vkq::eval
