// A llama-architecture model loaded from GGUF: hyperparameters, and a view of
// every weight tensor (type, shape, pointer into the file's read-only map).
// Nothing is copied or converted here; each forward pass (the CPU reference,
// the Vulkan one) takes the views and converts what it needs.
//
// Loading applies check_llama_metadata() and check_llama_tensors(), so a file
// whose keys or shapes are inconsistent is refused with an InputError naming
// the key or tensor (exit 2 through the CLI). Any supported weight type (F32,
// F16, BF16, Q8_0, Q4_0, Q4_1) is accepted for any tensor; the reader already
// refuses rows that are not whole blocks of their type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gguf_reader.hpp"
#include "llama_hparams.hpp"
#include "tensor_view.hpp"

namespace vkq {

struct LlamaLayerWeights {
  TensorView attn_norm;    // {dim}
  TensorView attn_q;       // {dim, dim}
  TensorView attn_k;       // {dim, kv_dim}
  TensorView attn_v;       // {dim, kv_dim}
  TensorView attn_output;  // {dim, dim}
  TensorView ffn_norm;     // {dim}
  TensorView ffn_gate;     // {dim, hidden}
  TensorView ffn_up;       // {dim, hidden}
  TensorView ffn_down;     // {hidden, dim}
};

class LlamaModel {
 public:
  // Maps and checks `path`.
  static LlamaModel open(const std::string& path);
  // Checks an already parsed file (tests, files in memory); takes it over.
  explicit LlamaModel(GgufFile file);

  LlamaModel(LlamaModel&&) noexcept = default;
  LlamaModel& operator=(LlamaModel&&) noexcept = default;
  LlamaModel(const LlamaModel&) = delete;
  LlamaModel& operator=(const LlamaModel&) = delete;

  const GgufFile& file() const { return file_; }
  const GgufMetadata& metadata() const { return file_.metadata(); }
  const LlamaHParams& hparams() const { return hp_; }

  const TensorView& token_embd() const { return token_embd_; }   // {dim, vocab}
  const std::vector<LlamaLayerWeights>& layers() const { return layers_; }
  const TensorView& output_norm() const { return output_norm_; }  // {dim}
  // The classifier {dim, vocab}: output.weight, or token_embd when tied.
  const TensorView& output() const { return tied_output_ ? token_embd_ : output_; }
  bool tied_output() const { return tied_output_; }
  // Llama 3.1-style per-frequency rope divisors {head_dim / 2}, if present.
  const std::optional<TensorView>& rope_freqs() const { return rope_freqs_; }

 private:
  TensorView view(const std::string& name) const;

  GgufFile file_;
  LlamaHParams hp_;
  TensorView token_embd_, output_norm_, output_;
  std::optional<TensorView> rope_freqs_;
  bool tied_output_ = true;
  std::vector<LlamaLayerWeights> layers_;
};

}  // namespace vkq
