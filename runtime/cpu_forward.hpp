// The CPU reference forward pass of a llama model: the golden model for
// tests, the quantizer's calibration on machines with no GPU, and the `cpu`
// device of `vkq run` and the scorecard. Clarity over speed: llama2.c's
// structure, one named op from ops/llama_ops_ref.hpp per step, fp32
// activations, fp64 accumulation, fp32 KV cache.
//
// Per layer, for a batch of n tokens x[n][dim]:
//   xb = rmsnorm(x, attn_norm)
//   q = xb Wq^T, k = xb Wk^T, v = xb Wv^T         q [n][dim], k, v [n][kv_dim]
//   rope(q), rope(k) at each token's position; k, v -> cache rows
//   a = attention(q, cache) (GQA, causal)        a [n][dim]
//   x += a Wo^T
//   xb = rmsnorm(x, ffn_norm)
//   x += (silu(xb Wgate^T) * (xb Wup^T)) Wdown^T  hidden [n][ff]
// then logits = rmsnorm(x, output_norm) Wout^T (Wout = token_embd when tied).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "llama_model.hpp"
#include "llama_session.hpp"
#include "ops/llama_ops_ref.hpp"

namespace vkq {

class CpuForward final : public LlamaSession {
 public:
  // A session over `model` (which must outlive it) with a KV cache for
  // n_ctx tokens; InputError unless 0 < n_ctx <= the model's context length.
  CpuForward(const LlamaModel& model, uint32_t n_ctx);

  uint32_t n_ctx() const override { return n_ctx_; }
  uint32_t n_vocab() const override { return model_.hparams().vocab_size; }
  std::string device_name() const override { return "cpu"; }

  std::vector<float> decode(int32_t token, uint32_t pos) override;
  std::vector<float> prefill(std::span<const int32_t> tokens, uint32_t start_pos, bool all_logits = false) override;

 private:
  // Scratch activations for a batch of n tokens (grown on demand).
  struct Activations {
    std::vector<float> x, xb, q, k, v, att, ffn_gate, ffn_up, logits;
    void resize(size_t n, const LlamaHParams& hp);
  };
  void attention_block(uint32_t layer, uint32_t start_pos, size_t n);
  void ffn_block(uint32_t layer);

  const LlamaModel& model_;
  uint32_t n_ctx_;
  ops::AttentionShape shape_;
  // Norm weights and rope factors, dequantized once.
  std::vector<std::vector<float>> attn_norm_, ffn_norm_;
  std::vector<float> output_norm_, rope_freqs_;
  // Per layer: [n_ctx][kv_dim] keys (after rope) and values.
  std::vector<std::vector<float>> k_cache_, v_cache_;
  Activations act_;
};

}  // namespace vkq
