#include "tokenizer_spm.hpp"

#include <queue>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {
namespace {

constexpr std::string_view kSpace = "\xe2\x96\x81";  // U+2581, SentencePiece's space

// Length of a UTF-8 sequence from its first byte, by the high nibble (as
// llama.cpp's unicode_len_utf8: continuation and invalid bytes count as 1).
size_t utf8_len(uint8_t c) {
  static constexpr uint8_t lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lens[c >> 4];
}

struct Symbol {
  int prev, next;  // neighbours in the linked list; -1 at the ends
  size_t start, len;
};

struct Bigram {
  int left, right;
  float score;
  size_t len;  // of the merged text: a symbol whose length changed since is stale
};

// Highest score first; ties go to the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t i = 0;
  for (size_t j; (j = s.find(from, i)) != std::string_view::npos; i = j + from.size()) {
    out.append(s.substr(i, j - i));
    out.append(to);
  }
  out.append(s.substr(i));
  return out;
}

}  // namespace

SpmTokenizer::SpmTokenizer(Vocab vocab) : Tokenizer(std::move(vocab)) {
  for (int b = 0; b < 256; ++b) {
    int32_t id = vocab_.find(byte_token_text(static_cast<uint8_t>(b)));
    if (id < 0) id = vocab_.find(std::string(1, static_cast<char>(b)));  // llama.cpp's fallback
    byte_tokens_[b] = id;
  }
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool add_bos, bool add_eos) const {
  std::vector<int32_t> out;
  if (add_bos && vocab_.bos >= 0) out.push_back(vocab_.bos);
  if (!text.empty()) {
    std::string s = vocab_.add_space_prefix ? std::string(kSpace) : std::string();
    s += replace_all(text, " ", kSpace);
    encode_piece(s, out);
  }
  if (add_eos && vocab_.eos >= 0) out.push_back(vocab_.eos);
  return out;
}

void SpmTokenizer::encode_piece(const std::string& text, std::vector<int32_t>& out) const {
  std::vector<Symbol> sym;
  for (size_t off = 0; off < text.size();) {
    const size_t len = std::min(text.size() - off, utf8_len(static_cast<uint8_t>(text[off])));
    const int idx = static_cast<int>(sym.size());
    sym.push_back({idx - 1, -1, off, len});
    if (idx > 0) sym[idx - 1].next = idx;
    off += len;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  std::string scratch;
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    scratch.assign(text, sym[left].start, sym[left].len + sym[right].len);
    const int32_t id = vocab_.find(scratch);
    if (id < 0) return;
    queue.push({left, right, vocab_.scores[static_cast<size_t>(id)], scratch.size()});
  };
  for (int i = 1; i < static_cast<int>(sym.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    if (l.len == 0 || r.len == 0 || l.len + r.len != b.len) continue;  // stale
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  for (int i = sym.empty() ? -1 : 0; i >= 0; i = sym[i].next) {
    scratch.assign(text, sym[i].start, sym[i].len);
    if (const int32_t id = vocab_.find(scratch); id >= 0) {
      out.push_back(id);
      continue;
    }
    for (const char c : scratch) {  // byte fallback
      const int32_t id = byte_tokens_[static_cast<uint8_t>(c)];
      if (id >= 0) out.push_back(id);
      else if (vocab_.unk >= 0) out.push_back(vocab_.unk);
      else throw InputError(fmt::format("tokenizer: no token for byte 0x{:02X} and no unknown token",
                                        static_cast<uint8_t>(c)));
    }
  }
}

std::string SpmTokenizer::token_to_piece(int32_t id) const {
  check_id(id);
  const auto& text = vocab_.tokens[static_cast<size_t>(id)];
  switch (vocab_.types[static_cast<size_t>(id)]) {
    case TokenType::control:
    case TokenType::unused: return {};
    case TokenType::unknown: return "\xe2\x96\x85";  // U+2585, as llama.cpp shows an unknown token
    case TokenType::user_defined: return text;
    case TokenType::byte: {
      const int b = parse_byte_token(text);
      return b >= 0 ? std::string(1, static_cast<char>(b)) : text;
    }
    default: return replace_all(text, kSpace, " ");
  }
}

// llama.cpp's detokenize strips the prefix space only when the first token
// is text; after a BOS it keeps it (remove_space = false). vkq strips it from
// the first text token even after a BOS, as SentencePiece's decode does, so
// that decode(encode(text, bos)) gives back `text`.
std::string SpmTokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  bool strip = vocab_.add_space_prefix;
  for (const int32_t id : ids) {
    check_id(id);
    const auto type = vocab_.types[static_cast<size_t>(id)];
    if (type == TokenType::control || type == TokenType::unused) continue;
    std::string piece = token_to_piece(id);
    if (strip && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip = false;
    out += piece;
  }
  return out;
}

}  // namespace vkq
