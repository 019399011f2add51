// llama2.c checkpoints and tokenizers, and their conversion to GGUF.
//
// Checkpoint (legacy "version 0" export of karpathy/llama2.c), little-endian:
//   int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len
//     (vocab_size < 0: a separate classifier follows; > 0: tied to the embedding)
//   float32 arrays, each row-major [out][in]:
//     token_embedding [vocab][dim]
//     rms_att [layers][dim]
//     wq [layers][dim][dim]      wk [layers][kv_dim][dim]   wv [layers][kv_dim][dim]
//     wo [layers][dim][dim]
//     rms_ffn [layers][dim]
//     w1 [layers][hidden][dim]   w2 [layers][dim][hidden]   w3 [layers][hidden][dim]
//     rms_final [dim]
//     freq_cis_real [seq_len][head_size/2], freq_cis_imag [seq_len][head_size/2]  (unused)
//     wcls [vocab][dim]          only when vocab_size < 0
//   kv_dim = dim * n_kv_heads / n_heads, head_size = dim / n_heads.
//
// Tokenizer: int32 max_token_length, then per token: float32 score,
// int32 length, bytes (spaces as ' ', not U+2581). The token count is the
// checkpoint's vocab_size.
//
// RoPE: llama2.c rotates adjacent pairs (x[2i], x[2i+1]) of each head, which
// is llama.cpp's normal (non-NeoX) rope for arch "llama". Meta's checkpoints
// use that convention; Hugging Face's are row-permuted for rotate_half, which
// is why llama.cpp's convert_hf_to_gguf.py permutes attn_q/attn_k back, and
// llama2.c's export.py un-permutes HF weights when it exports them. So
// llama2.c's wq/wk are already in llama.cpp's order: llama.cpp's own
// examples/convert-llama2c-to-ggml copies them element for element with no
// permutation, and so does vkq.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "byte_sink.hpp"
#include "ggml_types.hpp"
#include "llama_hparams.hpp"
#include "mapped_file.hpp"
#include "vocab.hpp"

namespace vkq {

struct Llama2cConfig {
  int32_t dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, vocab_size = 0, seq_len = 0;
  bool shared_classifier = true;  // vocab_size was positive in the header (stored here as |vocab_size|)
};

class Llama2cCheckpoint {
 public:
  // Maps and validates: header values positive and consistent, file size
  // exactly what the header implies. InputError naming the file otherwise.
  explicit Llama2cCheckpoint(const std::string& path);
  // The same checks on `size` bytes at `data` (not copied: the caller keeps
  // them alive while this object is used); `name` appears in messages.
  static Llama2cCheckpoint from_memory(const uint8_t* data, size_t size, std::string name = "<memory>");

  const std::string& path() const { return path_; }
  const Llama2cConfig& config() const { return config_; }
  // llama.cpp's hyperparameters for it: context = seq_len, rms eps 1e-5 and
  // rope base 10000 (llama2.c's constants), rope over the whole head.
  LlamaHParams hparams() const;
  // The weights of a GGUF tensor by llama.cpp name (llama_tensors.hpp), as
  // floats in the map; empty span for a name the checkpoint does not have.
  std::span<const float> tensor(const std::string& gguf_name) const;

 private:
  Llama2cCheckpoint(std::optional<MappedFile> map, const uint8_t* data, size_t size, std::string name);

  std::optional<MappedFile> map_;  // empty for from_memory
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  Llama2cConfig config_;
  std::unordered_map<std::string, std::span<const float>> tensors_;
};

// Reads `n_vocab` tokens. Token types as llama.cpp's converter assigns them:
// id 0 "<unk>" unknown, 1 "<s>" and 2 "</s>" control (renamed from llama2.c's
// "\n<s>\n"), empty texts control, "<0xNN>" byte, the rest normal; spaces in
// texts become U+2581. InputError for a truncated file, a negative length or
// bytes left over after the last token (a tokenizer for another vocabulary).
Vocab read_llama2c_tokenizer(const std::string& path, uint32_t n_vocab);
// The same from `size` bytes at `data`; `name` appears in messages.
Vocab read_llama2c_tokenizer(const uint8_t* data, size_t size, const std::string& name, uint32_t n_vocab);

struct Llama2cConvertOptions {
  GgmlType type = GgmlType::F32;  // F32 or F16 for weights; norms stay F32
  std::string name;               // general.name (default: the checkpoint's file stem)
  std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress;
};

// Streams the GGUF (metadata, vocabulary, tensors in llama_tensor_specs()
// order; output.weight only for a separate classifier) to `out`.
void convert_llama2c(const Llama2cCheckpoint& ckpt, const Vocab& vocab, ByteSink& out,
                     const Llama2cConvertOptions& opts = {});

}  // namespace vkq
