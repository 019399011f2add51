// Tokenizer: SentencePiece BPE as llama.cpp's llm_tokenizer_spm, on
// stories260K's vocabulary and on hand-made vocabularies.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "gguf_reader.hpp"
#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "tokenizer.hpp"
#include "tokenizer_spm.hpp"
#include "vocab.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::GgufValue;
using vkq::TokenType;

namespace {

std::unique_ptr<vkq::Tokenizer> stories_tokenizer() {
  static const auto bytes = vkq::test::stories260k_gguf();
  const auto f = vkq::GgufFile::from_memory(bytes.data(), bytes.size(), "stories260K.gguf");
  return vkq::make_tokenizer(f.metadata());
}

// A vocabulary from (text, score) pairs: ids 0..2 are <unk>, <s>, </s>,
// then the byte tokens if asked, then `pieces`.
vkq::GgufMetadata hand_vocab(const std::vector<std::pair<std::string, float>>& pieces, bool bytes = true) {
  vkq::Vocab v;
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.types = {TokenType::unknown, TokenType::control, TokenType::control};
  v.scores = {0, 0, 0};
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  if (bytes)
    for (int b = 0; b < 256; ++b) {
      v.tokens.push_back(vkq::byte_token_text(static_cast<uint8_t>(b)));
      v.types.push_back(TokenType::byte);
      v.scores.push_back(0);
    }
  for (const auto& [t, s] : pieces) {
    v.tokens.push_back(t);
    v.types.push_back(TokenType::normal);
    v.scores.push_back(s);
  }
  vkq::GgufMetadata md("hand-vocab");
  vkq::set_vocab_metadata(md, v);
  return md;
}

const std::string kSp = "\xe2\x96\x81";  // U+2581

}  // namespace

TEST_CASE("stories260K: 'Once upon a time' encodes as llama.cpp does", "[tokenizer]") {
  const auto tok = stories_tokenizer();
  CHECK(tok->n_vocab() == 512);
  CHECK(tok->encode("Once upon a time", true) == std::vector<int32_t>{1, 403, 407, 261, 378});
  CHECK(tok->encode("Once upon a time", false) == std::vector<int32_t>{403, 407, 261, 378});
  CHECK(tok->encode("Once upon a time", true, true) == std::vector<int32_t>{1, 403, 407, 261, 378, 2});
  CHECK(tok->encode("", true) == std::vector<int32_t>{1});
  CHECK(tok->decode(std::vector<int32_t>{1, 403, 407, 261, 378}) == "Once upon a time");
  CHECK(tok->token_to_piece(403) == " Once");
  CHECK(tok->token_to_piece(1).empty());
  CHECK(tok->token_to_piece(3 + 0x41) == "A");  // byte token <0x41>
  CHECK(tok->token_to_piece(0) == "\xe2\x96\x85");
}

TEST_CASE("stories260K: encode/decode round-trips varied text", "[tokenizer]") {
  const auto tok = stories_tokenizer();
  const std::vector<std::string> texts = {
      "Once upon a time, there was a little girl named Lily.",
      "  two leading spaces and trailing  ",
      " ",
      "tabs\tand\nnew\r\nlines",
      "UTF-8: h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82",
      std::string("control \x01\x02\x1b[0m \x7f and a NUL: ") + '\0' + " end",
      "invalid UTF-8: \x80\xbf lone continuations, a cut sequence at the end \xff\xe2\x96",
      "<s> and </s> are text here",
      "1234567890 !@#$%^&*()_+-=[]{};':\",./<>?`~\\|",
  };
  for (const auto& t : texts) {
    INFO(vkq::escape_for_message(t));
    const auto ids = tok->encode(t, true);
    REQUIRE(!ids.empty());
    CHECK(ids[0] == 1);
    for (size_t i = 1; i < ids.size(); ++i) CHECK((ids[i] != 1 && ids[i] != 2));
    CHECK(tok->decode(ids) == t);
  }
  // As in llama.cpp, a malformed lead byte takes the next bytes with it as
  // one character even when one of them begins the U+2581 that stands for a
  // space: that space then comes back as the raw bytes of U+2581.
  CHECK(tok->decode(tok->encode("\xc3 x", true)) == "\xc3\xe2\x96\x81x");
  // Bytes not in the vocabulary fall back to <0xNN> tokens (ids 3 + byte).
  const auto ids = tok->encode("\xe6\x97\xa5", false);
  REQUIRE(ids.size() == 4);  // "▁" then the three bytes
  CHECK(tok->token_to_piece(ids[0]) == " ");
  CHECK(std::vector<int32_t>(ids.begin() + 1, ids.end()) == std::vector<int32_t>{3 + 0xe6, 3 + 0x97, 3 + 0xa5});
}

TEST_CASE("merges follow scores, ties go left, unknown pieces fall back to bytes", "[tokenizer]") {
  // "▁ab": pairs "▁a" (score -5) and "ab" (score -1): "ab" merges first.
  {
    const auto md = hand_vocab({{kSp, -10}, {kSp + "a", -5}, {"ab", -1}, {kSp + "ab", -2}, {"a", -20}, {"b", -20}});
    const auto tok = vkq::make_tokenizer(md);
    const auto n = [&](const std::string& s) { return tok->vocab().find(s); };
    CHECK(tok->encode("ab", false) == std::vector<int32_t>{n(kSp + "ab")});
    CHECK(tok->encode("ab ab", false) == std::vector<int32_t>{n(kSp + "ab"), n(kSp + "ab")});
    CHECK(tok->encode("ba", false) == std::vector<int32_t>{n(kSp), n("b"), n("a")});
    CHECK(tok->encode("c", false) == std::vector<int32_t>{n(kSp), 3 + 'c'});
  }
  // Ties: "aaa" with "aa" scoring the same everywhere merges the leftmost pair.
  {
    const auto md = hand_vocab({{"a", -1}, {"aa", -1}}, true);
    vkq::GgufMetadata md2 = md;
    md2.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(false));
    const auto tok = vkq::make_tokenizer(md2);
    const auto aa = tok->vocab().find("aa"), a = tok->vocab().find("a");
    CHECK(tok->encode("aaa", false) == std::vector<int32_t>{aa, a});
    CHECK(tok->decode(tok->encode("aaa", true)) == "aaa");
  }
  // Without byte tokens, an unknown byte becomes <unk>.
  {
    const auto tok = vkq::make_tokenizer(hand_vocab({{kSp, 0}, {"x", 0}}, false));
    CHECK(tok->encode("xy", false) == std::vector<int32_t>{3, 4, 0});
    CHECK(tok->decode(tok->encode("xy", false)) == "x\xe2\x96\x85");
  }
}

TEST_CASE("tokenizer metadata errors name the key", "[tokenizer]") {
  auto md = hand_vocab({{"a", 0}});
  md.set("tokenizer.ggml.model", GgufValue::string("gpt2"));
  CHECK_THROWS_WITH(vkq::make_tokenizer(md), ContainsSubstring("'gpt2'") && ContainsSubstring("not supported yet"));
  md.set("tokenizer.ggml.model", GgufValue::string("bert"));
  CHECK_THROWS_WITH(vkq::make_tokenizer(md), ContainsSubstring("tokenizer.ggml.model 'bert' is not a known tokenizer"));
  md = hand_vocab({{"a", 0}});
  md.set("tokenizer.ggml.scores", GgufValue::array(std::vector<float>{1, 2}));
  CHECK_THROWS_WITH(vkq::make_tokenizer(md), ContainsSubstring("'tokenizer.ggml.scores' has 2 entries, expected 260"));
  md = hand_vocab({{"a", 0}});
  md.set("tokenizer.ggml.bos_token_id", GgufValue::u32(999));
  CHECK_THROWS_WITH(vkq::make_tokenizer(md), ContainsSubstring("'tokenizer.ggml.bos_token_id' = 999 is outside the vocabulary"));
  md = hand_vocab({{"a", 0}});
  md.set("tokenizer.ggml.token_type", GgufValue::array(std::vector<int32_t>(260, 9)));
  CHECK_THROWS_WITH(vkq::make_tokenizer(md), ContainsSubstring("= 9 is not a token type"));
  md = hand_vocab({{"a", 0}});
  md.erase("tokenizer.ggml.tokens");
  CHECK_THROWS_WITH(vkq::make_tokenizer(md), "hand-vocab: key 'tokenizer.ggml.tokens' is missing");
  const auto tok = vkq::make_tokenizer(hand_vocab({{"a", 0}}));
  CHECK_THROWS_WITH(tok->decode(std::vector<int32_t>{5000}), ContainsSubstring("token id 5000 is outside the vocabulary"));
  CHECK_THROWS_AS(tok->token_to_piece(-1), vkq::InputError);
  vkq::Vocab v = tok->vocab();
  v.scores.pop_back();
  CHECK_THROWS_WITH(vkq::SpmTokenizer(v), ContainsSubstring("260 tokens with 259 scores and 260 types"));
}
