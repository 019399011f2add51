// SentencePiece-style BPE (tokenizer.ggml.model = "llama"), as llama.cpp's
// llm_tokenizer_spm:
//   1. spaces become U+2581 "▁", and one "▁" is prepended (add_space_prefix);
//   2. the text is split into UTF-8 characters (a malformed byte is one
//      character of its own length class, cut at the end of the text);
//   3. repeatedly the adjacent pair whose concatenation is a token with the
//      highest score is merged (ties: the leftmost pair);
//   4. each final piece is its token, or, if it is not in the vocabulary, its
//      bytes as <0xNN> tokens (byte fallback).
// Decoding maps "▁" back to spaces and byte tokens to raw bytes.
#pragma once

#include <array>

#include "tokenizer.hpp"

namespace vkq {

class SpmTokenizer : public Tokenizer {
 public:
  explicit SpmTokenizer(Vocab vocab);

  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool add_eos = false) const override;
  std::string token_to_piece(int32_t id) const override;
  std::string decode(std::span<const int32_t> ids) const override;

 private:
  void encode_piece(const std::string& text, std::vector<int32_t>& out) const;
  std::array<int32_t, 256> byte_tokens_{};  // token for each byte, -1 if none
};

}  // namespace vkq
