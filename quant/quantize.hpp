// The offline quantizer behind `vkq quantize` (and the scorecard's
// on-the-fly recipes): reads a GGUF model, quantizes its matrices with RTN,
// GPTQ or AWQ (calibrated on a text file), and writes a GGUF file that
// llama.cpp loads too, atomically (temporary name, then rename).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ggml_types.hpp"

namespace vkq::quant {

enum class Method { rtn, gptq, awq };
const char* method_name(Method m);              // "rtn", "gptq", "awq"
std::optional<Method> parse_method(const std::string& s);

struct QuantizeOptions {
  std::string input;                 // GGUF (F32/F16/BF16 weights)
  std::string output;                // GGUF written
  GgmlType type = GgmlType::Q4_0;    // Q4_0, Q4_1 or Q8_0
  Method method = Method::rtn;
  std::string calib_file;            // text; required by gptq and awq
  uint32_t samples = 128;            // calibration windows
  uint32_t seq_len = 256;            // tokens per window
  // Tensor-name globs pinned to a type (`--keep output.weight=q8_0`).
  std::vector<std::pair<std::string, GgmlType>> keep;
  std::string device = "cpu";        // calibration forward passes: "cpu" or a Vulkan device
  uint64_t seed = 0;
  bool act_order = false;            // GPTQ
  double damp = 0.01;                // GPTQ: dampening, a fraction of mean(diag H) (raised if H does not factorise)
  unsigned threads = 0;              // CPU threads for calibration and the methods (0: all); the output does not depend on it
  // Called during long work: fraction done in [0, 1] and what is being done.
  std::function<void(double fraction, const std::string& what)> progress;
};

// Per-tensor outcome, for --report.
struct TensorReport {
  std::string name;
  GgmlType type = GgmlType::F32;     // as written
  std::string note;                  // e.g. "rows of 172: not a multiple of 32, kept F32"
  uint64_t bytes = 0;
  double mse = -1;                   // output MSE on calibration data with this method (-1: not measured)
  double mse_rtn = -1;               // the same with RTN, side by side
};

struct QuantizeReport {
  std::string method;
  GgmlType type = GgmlType::Q4_0;
  std::string calib_sha256;          // "" without calibration
  uint32_t samples = 0, seq_len = 0;
  uint64_t seed = 0;
  uint64_t output_bytes = 0;
  double seconds = 0;
  std::vector<TensorReport> tensors;
  std::vector<std::string> warnings;  // e.g. a layer whose GPTQ damping had to be raised
  nlohmann::json to_json() const;
};

// InputError (exit 2) for bad options, an already-quantized input, a calib
// file that is empty or too short, a --keep glob matching nothing. Leaves no
// partial output on any failure.
QuantizeReport quantize_model(const QuantizeOptions& opts);

}  // namespace vkq::quant
