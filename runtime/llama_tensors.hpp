// The tensor table of a llama-architecture GGUF, with llama.cpp's names and
// shapes in ggml order (ne[0] = row length = input features):
//   token_embd.weight          {dim, vocab}
//   rope_freqs.weight          {head_dim/2}     only for Llama 3.1-style rope scaling
//   blk.N.attn_norm.weight     {dim}
//   blk.N.attn_q.weight        {dim, dim}
//   blk.N.attn_k.weight        {dim, kv_dim}
//   blk.N.attn_v.weight        {dim, kv_dim}
//   blk.N.attn_output.weight   {dim, dim}
//   blk.N.ffn_norm.weight      {dim}
//   blk.N.ffn_gate.weight      {dim, hidden}    (llama2.c w1)
//   blk.N.ffn_up.weight        {dim, hidden}    (llama2.c w3)
//   blk.N.ffn_down.weight      {hidden, dim}    (llama2.c w2)
//   output_norm.weight         {dim}
//   output.weight              {dim, vocab}     absent when tied to token_embd
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llama_hparams.hpp"

namespace vkq {

class GgufFile;

enum class LlamaTensorKind {
  embedding,   // token_embd
  norm,        // RMSNorm weights: always F32
  matrix,      // projections
  output,      // classifier
  rope_freqs,  // per-frequency rope scaling factors: always F32
};

struct LlamaTensorSpec {
  std::string name;
  std::vector<uint64_t> ne;
  LlamaTensorKind kind;
  uint64_t n_elements() const;
  bool always_f32() const { return kind == LlamaTensorKind::norm || kind == LlamaTensorKind::rope_freqs; }
};

struct LlamaTensorOptions {
  bool tied_output = false;  // no output.weight: the classifier is token_embd
  bool rope_freqs = false;   // a rope_freqs.weight tensor (Llama 3.1 rope scaling)
};

std::vector<LlamaTensorSpec> llama_tensor_specs(const LlamaHParams& hp, const LlamaTensorOptions& opts = {});

// Every tensor a llama model needs is present with its expected shape
// (output.weight and rope_freqs.weight are optional); InputError naming the
// tensor otherwise. Extra tensors are allowed, as llama.cpp allows them.
void check_llama_tensors(const GgufFile& file, const LlamaHParams& hp);

}  // namespace vkq
