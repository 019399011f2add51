// A tokenizer vocabulary as GGUF stores it (tokenizer.ggml.*): token texts,
// scores, types, special ids and flags. Tokenizers (tokenizer.hpp) are built
// from it; converters (llama2c.cpp, synth.cpp) write it.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "gguf_value.hpp"

namespace vkq {

// llama.cpp's llama_token_type values (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6,
};

struct Vocab {
  std::string model = "llama";  // tokenizer.ggml.model
  std::vector<std::string> tokens;
  std::vector<float> scores;      // same length as tokens
  std::vector<TokenType> types;   // same length as tokens
  int32_t bos = -1, eos = -1, unk = -1;  // -1: none
  bool add_bos = true, add_eos = false, add_space_prefix = true;

  size_t size() const { return tokens.size(); }
  int32_t find(const std::string& text) const;  // -1 if absent (the last id with that text, as llama.cpp)
  void build_index();                           // after tokens change

 private:
  std::unordered_map<std::string, int32_t> index_;
};

// Reads tokenizer.ggml.{model, tokens, scores, token_type, bos_token_id,
// eos_token_id, unknown_token_id, add_bos_token, add_eos_token,
// add_space_prefix}. scores default to 0, types to normal; special ids
// default to llama's (unk 0, bos 1, eos 2) for model "llama". InputError
// naming the key for a wrong type, a length mismatch or an id out of range.
Vocab read_vocab(const GgufMetadata& md);

// Writes the keys above (model, tokens, scores, token_type, ids, add_bos,
// add_eos) in llama.cpp's order.
void set_vocab_metadata(GgufMetadata& md, const Vocab& v);

// The text of byte token b as SentencePiece writes it: "<0x0A>".
std::string byte_token_text(uint8_t b);
// The byte of a byte token's text "<0xNN>" (hex digits either case), or -1.
int parse_byte_token(const std::string& text);

}  // namespace vkq
