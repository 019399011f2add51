// Text <-> token ids for a GGUF model. One implementation per
// tokenizer.ggml.model: "llama" (SentencePiece BPE, tokenizer_spm.hpp) today;
// "gpt2" (byte-level BPE with merges) slots in as another subclass.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf_value.hpp"
#include "vocab.hpp"

namespace vkq {

class Tokenizer {
 public:
  // InputError unless scores and types have one entry per token.
  explicit Tokenizer(Vocab vocab);
  virtual ~Tokenizer() = default;

  // Token ids for `text` (raw bytes, normally UTF-8): BOS first when add_bos
  // and the vocabulary has one, EOS last likewise. Special-token texts in
  // `text` (e.g. "<s>") are ordinary text, as llama.cpp's parse_special=false.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos, bool add_eos = false) const = 0;

  // The bytes one token stands for, for streaming output (no stripping):
  // control tokens give "", byte tokens their byte.
  virtual std::string token_to_piece(int32_t id) const = 0;

  // Text for a token sequence: control tokens (BOS, EOS) vanish and the space
  // that encoding prepends is removed from the first text token, so
  // decode(encode(t)) == t.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;

  const Vocab& vocab() const { return vocab_; }
  size_t n_vocab() const { return vocab_.size(); }

 protected:
  void check_id(int32_t id) const;  // InputError for an id outside the vocabulary
  Vocab vocab_;
};

// The tokenizer that tokenizer.ggml.model names; an unsupported model is an
// InputError naming it.
std::unique_ptr<Tokenizer> make_tokenizer(const GgufMetadata& md);

}  // namespace vkq
