#include "vocab.hpp"

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

int32_t Vocab::find(const std::string& text) const {
  const auto it = index_.find(text);
  return it == index_.end() ? -1 : it->second;
}

void Vocab::build_index() {
  index_.clear();
  index_.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) index_[tokens[i]] = static_cast<int32_t>(i);
}

std::string byte_token_text(uint8_t b) { return fmt::format("<0x{:02X}>", b); }

int parse_byte_token(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  int v = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = t[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else return -1;
  }
  return v;
}

Vocab read_vocab(const GgufMetadata& md) {
  Vocab v;
  v.model = md.get_string("tokenizer.ggml.model");
  v.tokens = md.get_strings("tokenizer.ggml.tokens");
  const size_t n = v.tokens.size();
  if (n == 0 || n > static_cast<size_t>(INT32_MAX))
    throw InputError(fmt::format("{}: key 'tokenizer.ggml.tokens' has {} entries", md.source(), n));
  auto same_length = [&](const char* key, size_t len) {
    if (len != n)
      throw InputError(fmt::format("{}: key '{}' has {} entries, expected {} (one per token)", md.source(), key, len, n));
  };

  if (md.contains("tokenizer.ggml.scores")) {
    v.scores = md.get_f32_array("tokenizer.ggml.scores");
    same_length("tokenizer.ggml.scores", v.scores.size());
  } else {
    v.scores.assign(n, 0.0f);
  }
  v.types.assign(n, TokenType::normal);
  if (md.contains("tokenizer.ggml.token_type")) {
    const auto t = md.get_i32_array("tokenizer.ggml.token_type");
    same_length("tokenizer.ggml.token_type", t.size());
    for (size_t i = 0; i < n; ++i) {
      if (t[i] < 0 || t[i] > static_cast<int32_t>(TokenType::byte))
        throw InputError(fmt::format("{}: key 'tokenizer.ggml.token_type'[{}] = {} is not a token type (0..6)",
                                     md.source(), i, t[i]));
      v.types[i] = static_cast<TokenType>(t[i]);
    }
  }

  const bool llama = v.model == "llama";
  auto special = [&](const char* key, int32_t fallback) -> int32_t {
    const auto id = md.find_u32(key);
    if (!id) return fallback >= 0 && static_cast<size_t>(fallback) < n ? fallback : -1;
    if (*id == UINT32_MAX) return -1;  // llama.cpp's converters write -1 as u32 for "none"
    if (*id >= n) throw InputError(fmt::format("{}: key '{}' = {} is outside the vocabulary of {}", md.source(), key, *id, n));
    return static_cast<int32_t>(*id);
  };
  v.unk = special("tokenizer.ggml.unknown_token_id", llama ? 0 : -1);
  v.bos = special("tokenizer.ggml.bos_token_id", llama ? 1 : -1);
  v.eos = special("tokenizer.ggml.eos_token_id", llama ? 2 : -1);
  v.add_bos = md.find_bool("tokenizer.ggml.add_bos_token").value_or(llama);
  v.add_eos = md.find_bool("tokenizer.ggml.add_eos_token").value_or(false);
  v.add_space_prefix = md.find_bool("tokenizer.ggml.add_space_prefix").value_or(llama);
  v.build_index();
  return v;
}

void set_vocab_metadata(GgufMetadata& md, const Vocab& v) {
  md.set("tokenizer.ggml.model", GgufValue::string(v.model));
  md.set("tokenizer.ggml.tokens", GgufValue::string_array(v.tokens));
  md.set("tokenizer.ggml.scores", GgufValue::array(v.scores));
  std::vector<int32_t> types(v.types.size());
  for (size_t i = 0; i < types.size(); ++i) types[i] = static_cast<int32_t>(v.types[i]);
  md.set("tokenizer.ggml.token_type", GgufValue::array(types));
  if (v.bos >= 0) md.set("tokenizer.ggml.bos_token_id", GgufValue::u32(static_cast<uint32_t>(v.bos)));
  if (v.eos >= 0) md.set("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<uint32_t>(v.eos)));
  if (v.unk >= 0) md.set("tokenizer.ggml.unknown_token_id", GgufValue::u32(static_cast<uint32_t>(v.unk)));
  md.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(v.add_bos));
  md.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(v.add_eos));
}

}  // namespace vkq
