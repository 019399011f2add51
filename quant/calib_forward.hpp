// The layer-wise forward pass the quantizer calibrates with: a batch of
// windows (each its own sequence at positions 0 .. L-1) through the
// runtime's reference ops (runtime/ops/llama_ops_ref.hpp), one op at a time
// over every token, so that each linear layer's full input is at hand when
// it is quantized and the layers after it can be fed the quantized layer's
// output. The same arithmetic as the CPU reference forward pass
// (cpu_forward.hpp), spread over threads by fixed token chunks (per-token
// results do not depend on how tokens are grouped).
//
// Activations are row-major over all tokens of all windows: [T][width],
// T = windows x L, window w's token t at row w * L + t.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "llama_hparams.hpp"
#include "tensor_view.hpp"

namespace vkq::quant {

class CalibBatch {
 public:
  CalibBatch(const LlamaHParams& hp, const std::vector<std::vector<int32_t>>& windows, unsigned threads);

  size_t tokens() const { return tokens_.size(); }
  uint32_t windows() const { return n_windows_; }
  uint32_t seq_len() const { return seq_len_; }
  unsigned threads() const { return threads_; }

  // [T][dim]: the token embedding rows.
  std::vector<float> embed(const TensorView& table) const;
  // [T][w]: rmsnorm of each row of x with `weight` (w = weight.size()).
  std::vector<float> rmsnorm(std::span<const float> x, std::span<const float> weight) const;
  // [T][w.rows]: x [T][w.cols] times W^T.
  std::vector<float> linear(const TensorView& w, std::span<const float> x) const;
  // Rope on q [T][dim] and k [T][kv_dim] at each token's position, then
  // causal grouped-query attention within each window: [T][dim].
  std::vector<float> attention(std::vector<float> q, std::vector<float> k, std::span<const float> v,
                               std::span<const float> rope_freqs) const;
  // silu(gate) * up, [T][hidden].
  std::vector<float> swiglu(std::span<const float> gate, std::span<const float> up) const;

 private:
  LlamaHParams hp_;
  std::vector<int32_t> tokens_;
  uint32_t n_windows_ = 0, seq_len_ = 0;
  unsigned threads_ = 0;
};

// A TensorView of F32 weights [rows][cols] in `w` (which must outlive it).
TensorView f32_view(const std::string& name, std::span<const float> w, uint64_t rows, uint64_t cols);

}  // namespace vkq::quant
