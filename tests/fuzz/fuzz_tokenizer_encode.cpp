// libFuzzer target for the tokenizer's encode on arbitrary bytes
// (runtime/tokenizer_spm.hpp). Input: one byte of settings, then the text.
//   bits 0-1: the vocabulary: stories260K's tok512 (from VKQ_MODELS_DIR), the
//             same without add_space_prefix, the same with its byte tokens
//             gone (byte fallback goes to single characters or <unk>), or
//             a tiny one with tied scores and overlapping merges
//   bit 2, 3: add BOS, add EOS
// Properties: encode never throws (every vocabulary here has byte tokens or
// <unk>); ids lie inside the vocabulary, BOS first and EOS last when asked;
// for texts up to 128 bytes the ids equal a plain quadratic reference of
// SentencePiece BPE (merge the best-scoring adjacent pair, leftmost on ties,
// until none is a token; then byte fallback); where every byte has a byte
// token, decode(encode(t)) gives t back, U+2581 read as a space (the one
// loss SentencePiece has by design) -- exactly where the text splits into
// whole UTF-8 characters, and with U+2581 read as a space on both sides
// where it does not: a malformed lead byte claims the bytes after it, the
// "▁" of a space included, and byte tokens decode to raw bytes, so
// "\xff " comes back as "\xff▁". llama.cpp does the same; vkq keeps its
// token ids (fuzzing found it: regressions/tokenizer_encode/).
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <cstdio>

#include "error.hpp"
#include "fuzz/fuzz_target.hpp"
#include "llama2c.hpp"
#include "support/models_dir.hpp"
#include "tokenizer_spm.hpp"


namespace {

using vkq::TokenType;
using vkq::Vocab;

constexpr std::string_view kSpace = "\xe2\x96\x81";

// stories260K's real vocabulary, read from VKQ_MODELS_DIR (the models come
// from elsewhere and are not in the repository); without it the cases that
// use it fall back to tiny(), with a note.
Vocab tiny();
Vocab tok512() {
  const std::string path = vkq::test::models_dir() + "/tok512.bin";
  try {
    return vkq::read_llama2c_tokenizer(path, 512);
  } catch (const vkq::InputError& e) {
    std::fprintf(stderr, "fuzz_tokenizer_encode: %s: using the small vocabulary instead (set VKQ_MODELS_DIR)\n", e.what());
    return tiny();
  }
}

Vocab without_byte_tokens(Vocab v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v.types[i] == TokenType::byte) {
      v.tokens[i] = "<unused" + std::to_string(i) + ">";
      v.types[i] = TokenType::unused;
    }
  v.build_index();
  return v;
}

// Byte tokens, and merges whose scores tie so that the leftmost rule decides.
Vocab tiny() {
  Vocab v;
  auto add = [&](std::string text, float score, TokenType type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(type);
  };
  add("<unk>", 0, TokenType::unknown);
  add("<s>", 0, TokenType::control);
  add("</s>", 0, TokenType::control);
  for (int b = 0; b < 256; ++b) add(vkq::byte_token_text(static_cast<uint8_t>(b)), 0, TokenType::byte);
  const std::string sp(kSpace);
  for (const auto& [text, score] : std::vector<std::pair<std::string, float>>{
           {sp, -1}, {"a", -1}, {"b", -1}, {"ab", -2}, {"ba", -2}, {"aa", -2}, {"aaa", -3}, {sp + "a", -2},
           {sp + "ab", -3}, {sp + sp, -2}, {"\xc3\xa9", -1}, {"\xc3\xa9" "a", -2}, {"<", -1}, {"s", -1}, {"<s", -2}})
    add(text, score, TokenType::normal);
  add("<s>", -3, TokenType::normal);  // the same text as BOS: find() gives the last id, as llama.cpp
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.build_index();
  return v;
}

struct Case {
  std::unique_ptr<vkq::SpmTokenizer> tok;
  bool all_bytes;  // every byte has a byte token: decode(encode(t)) == t
};

const Case& vocab_case(int which) {
  static const Case cases[4] = {
      {std::make_unique<vkq::SpmTokenizer>(tok512()), true},
      {std::make_unique<vkq::SpmTokenizer>([] { auto v = tok512(); v.add_space_prefix = false; return v; }()), true},
      {std::make_unique<vkq::SpmTokenizer>(without_byte_tokens(tok512())), false},
      {std::make_unique<vkq::SpmTokenizer>(tiny()), true},
  };
  return cases[which];
}

std::string spaces_to_u2581(std::string_view s) {
  std::string out;
  for (const char c : s) out += c == ' ' ? std::string(kSpace) : std::string(1, c);
  return out;
}

std::string u2581_to_spaces(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.substr(i, 3) == kSpace) {
      out += ' ';
      i += 3;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// Whether every multi-byte character (by lead byte, as the tokenizer
// splits) is followed by its continuation bytes within the text.
bool splits_cleanly(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    const size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    if (i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<uint8_t>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

// The reference: pieces as strings, the best pair found by a full scan.
std::vector<int32_t> reference_encode(const Vocab& v, std::string_view text) {
  std::vector<int32_t> ids;
  if (text.empty()) return ids;
  const std::string s = (v.add_space_prefix ? std::string(kSpace) : std::string()) + spaces_to_u2581(text);
  std::vector<std::string> pieces;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    const size_t n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;  // continuation bytes count as 1
    pieces.push_back(s.substr(i, std::min(n, s.size() - i)));
    i += pieces.back().size();
  }
  for (;;) {
    int best = -1;
    float best_score = 0;
    for (size_t i = 0; i + 1 < pieces.size(); ++i) {
      const int32_t id = v.find(pieces[i] + pieces[i + 1]);
      if (id >= 0 && (best < 0 || v.scores[id] > best_score)) {
        best = static_cast<int>(i);
        best_score = v.scores[id];
      }
    }
    if (best < 0) break;
    pieces[best] += pieces[best + 1];
    pieces.erase(pieces.begin() + best + 1);
  }
  for (const auto& p : pieces) {
    if (const int32_t id = v.find(p); id >= 0) {
      ids.push_back(id);
      continue;
    }
    for (const char c : p) {
      int32_t id = v.find(vkq::byte_token_text(static_cast<uint8_t>(c)));
      if (id < 0) id = v.find(std::string(1, c));
      ids.push_back(id >= 0 ? id : v.unk);
    }
  }
  return ids;
}

}  // namespace

VKQ_FUZZ_TARGET(tokenizer_encode) {
  if (size == 0) return;
  const Case& c = vocab_case(data[0] & 3);
  const bool bos = data[0] & 4, eos = data[0] & 8;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto& v = c.tok->vocab();

  const auto ids = c.tok->encode(text, bos, eos);
  for (const auto id : ids) expect(id >= 0 && static_cast<size_t>(id) < v.size(), "ids inside the vocabulary");
  const size_t first = bos ? 1 : 0, last = ids.size() - (eos ? 1 : 0);
  expect(!bos || (!ids.empty() && ids.front() == v.bos), "BOS first");
  expect(!eos || (ids.size() > first && ids.back() == v.eos), "EOS last");
  if (text.size() <= 128) {  // the reference is quadratic in merges
    const auto ref = reference_encode(v, text);
    expect(std::equal(ids.begin() + first, ids.begin() + last, ref.begin(), ref.end()), "encode equals the reference BPE");
  }
  if (c.all_bytes) {
    const std::string back = c.tok->decode(ids);
    if (splits_cleanly(text)) expect(back == u2581_to_spaces(text), "decode(encode(t)) == t");
    else expect(u2581_to_spaces(back) == u2581_to_spaces(text), "decode(encode(t)) == t, U+2581 as a space");
  }
}
