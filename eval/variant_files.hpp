// Turns each configured variant into a GGUF file to load, hashed:
//   path        used as is;
//   checkpoint  a llama2.c checkpoint + tokenizer, converted to F32 GGUF;
//   recipe      quantized from its `from` variant by the quantizer
//               (quant_bridge.hpp) with the recipe's method, type and
//               calibration settings.
// Converted and quantized files are cached by content hash under
// <cache>/models/<sha256 of what went in>.gguf, so a later run (or a resumed
// one) reuses them; they are written atomically, so an interrupted
// conversion leaves nothing a later run could mistake for a whole file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "scorecard_config.hpp"

namespace vkq::eval {

struct VariantFile {
  std::string name;
  bool reference = false;
  std::string file;    // the GGUF to load
  std::string sha256;  // of that file
  uint64_t bytes = 0;  // its size
  std::string source;  // "gguf", "llama2.c checkpoint", "gptq q4_0 from f32"
  bool cached = false; // converted or quantized by an earlier run
  double prepare_s = 0;
};

// Variants in config order. `note` receives one line per conversion or
// quantization started (for the CLI's progress display).
// `build` (build_identity.hpp) is part of every cache key.
std::vector<VariantFile> prepare_variants(const ScorecardConfig& cfg, const std::string& cache_dir,
                                          const std::string& build,
                                          const std::function<void(const std::string&)>& note = {});

}  // namespace vkq::eval
