// Hyperparameters of a llama-architecture model and their GGUF metadata keys
// (llama.cpp's names). check_llama_metadata() is what a loader calls first:
// each required key missing or of the wrong type is an InputError naming it.
#pragma once

#include <cstdint>
#include <string>

#include "ggml_types.hpp"
#include "gguf_value.hpp"

namespace vkq {

constexpr uint32_t kMaxLlamaBlocks = 4096;

struct LlamaHParams {
  uint32_t context_length = 0;        // llama.context_length
  uint32_t embedding_length = 0;      // llama.embedding_length (dim)
  uint32_t block_count = 0;           // llama.block_count (layers)
  uint32_t feed_forward_length = 0;   // llama.feed_forward_length (hidden)
  uint32_t head_count = 0;            // llama.attention.head_count
  uint32_t head_count_kv = 0;         // llama.attention.head_count_kv (default head_count)
  uint32_t vocab_size = 0;            // tokenizer.ggml.tokens length (llama.vocab_size if present must agree)
  uint32_t rope_dimension_count = 0;  // llama.rope.dimension_count (default head_dim)
  float rms_norm_eps = 1e-5f;         // llama.attention.layer_norm_rms_epsilon
  float rope_freq_base = 10000.0f;    // llama.rope.freq_base (default 10000)

  uint32_t head_dim() const { return embedding_length / head_count; }
  uint32_t kv_dim() const { return head_dim() * head_count_kv; }
  friend bool operator==(const LlamaHParams&, const LlamaHParams&) = default;
};

// Reads and validates the llama keys of a GGUF file's metadata.
LlamaHParams check_llama_metadata(const GgufMetadata& md);

// Consistency of the numbers themselves (all positive, at most 4096 blocks,
// heads divide dim, kv heads divide heads, rope dims even and within a head,
// eps and base positive); InputError naming `source` and the offending field.
void validate_llama_hparams(const LlamaHParams& hp, const std::string& source);

// Writes general.architecture = "llama" and the llama.* keys, in the order
// llama.cpp's converters use.
void set_llama_metadata(GgufMetadata& md, const LlamaHParams& hp);

// general.file_type for a file whose weights are mostly `t` (llama.cpp's
// llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q4_1 3,
// MOSTLY_Q8_0 7, MOSTLY_BF16 32).
uint32_t llama_file_type(GgmlType t);

}  // namespace vkq
