// llama2.c import: stories260K converts to a llama GGUF whose tensors are the
// checkpoint's floats exactly; corrupt checkpoints and tokenizers are refused.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <cstring>
#include <filesystem>

#include "byte_sink.hpp"
#include "error.hpp"
#include "gguf_reader.hpp"
#include "llama2c.hpp"
#include "llama_tensors.hpp"
#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::GgmlType;

namespace {

std::string stories() { return vkq::test::models_dir() + "/stories260K.bin"; }
std::string tok512() { return vkq::test::models_dir() + "/tok512.bin"; }

// A tiny llama2.c checkpoint: dim 4, hidden 8, 1 layer, 2 heads, 1 kv head,
// vocab 3 (negated: separate classifier when `untied`), seq_len 2; weights
// are 0, 1, 2, ... in file order.
std::vector<uint8_t> tiny_checkpoint(bool untied) {
  const int32_t h[7] = {4, 8, 1, 2, 1, untied ? -3 : 3, 2};
  std::vector<uint8_t> b(reinterpret_cast<const uint8_t*>(h), reinterpret_cast<const uint8_t*>(h) + 28);
  // emb 12, rms_att 4, wq 16, wk 8, wv 8, wo 16, rms_ffn 4, w1 32, w2 32, w3 32, rms_final 4, freq 2*2, wcls 12
  const size_t n = 12 + 4 + 16 + 8 + 8 + 16 + 4 + 32 * 3 + 4 + 4 + (untied ? 12 : 0);
  for (size_t i = 0; i < n; ++i) {
    const float f = float(i);
    b.insert(b.end(), reinterpret_cast<const uint8_t*>(&f), reinterpret_cast<const uint8_t*>(&f) + 4);
  }
  return b;
}

}  // namespace

TEST_CASE("stories260K converts with llama.cpp's names, keys and the exact floats", "[llama2c]") {
  const vkq::Llama2cCheckpoint ckpt(stories());
  const auto& c = ckpt.config();
  CHECK(c.dim == 64);
  CHECK(c.hidden_dim == 172);
  CHECK(c.n_layers == 5);
  CHECK(c.n_heads == 8);
  CHECK(c.n_kv_heads == 4);
  CHECK(c.vocab_size == 512);
  CHECK(c.seq_len == 512);
  CHECK(c.shared_classifier);

  const auto bytes = vkq::test::stories260k_gguf(GgmlType::F32);
  const auto f = vkq::GgufFile::from_memory(bytes.data(), bytes.size(), "stories260K.gguf");
  const auto hp = vkq::check_llama_metadata(f.metadata());
  CHECK(hp == ckpt.hparams());
  CHECK(hp.rope_dimension_count == 8);
  CHECK(hp.head_count_kv == 4);
  CHECK(hp.rms_norm_eps == 1e-5f);
  vkq::check_llama_tensors(f, hp);
  const auto& md = f.metadata();
  CHECK(md.get_string("general.name") == "stories260K");
  CHECK(md.get_u32("general.file_type") == 0);
  CHECK(md.get_string("tokenizer.ggml.model") == "llama");
  CHECK(md.get_u32("tokenizer.ggml.bos_token_id") == 1);
  CHECK(md.get_u32("tokenizer.ggml.eos_token_id") == 2);
  CHECK(md.get_u32("tokenizer.ggml.unknown_token_id") == 0);
  const auto& tokens = md.get_strings("tokenizer.ggml.tokens");
  const auto types = md.get_i32_array("tokenizer.ggml.token_type");
  CHECK(tokens[0] == "<unk>");
  CHECK(tokens[1] == "<s>");
  CHECK(tokens[2] == "</s>");
  CHECK(tokens[3] == "<0x00>");
  CHECK(tokens[403] == "\xe2\x96\x81Once");
  CHECK(types[0] == 2);
  CHECK(types[1] == 3);
  CHECK(types[3] == 6);
  CHECK(types[258] == 6);
  CHECK(types[403] == 1);
  CHECK(md.get_f32_array("tokenizer.ggml.scores")[403] == -144.0f);

  // 5 layers x 9 + token_embd + output_norm; the classifier is tied.
  REQUIRE(f.tensors().size() == 47);
  CHECK(f.find_tensor("output.weight") == nullptr);
  for (const auto& t : f.tensors()) {
    INFO(t.name);
    const auto src = ckpt.tensor(t.name);
    REQUIRE(src.size() == t.n_elements);
    CHECK(t.type == GgmlType::F32);
    CHECK(std::memcmp(t.data, src.data(), src.size_bytes()) == 0);
  }
  CHECK(f.tensor("blk.2.attn_k.weight").ne == std::vector<uint64_t>{64, 32});
  CHECK(f.tensor("blk.4.ffn_down.weight").ne == std::vector<uint64_t>{172, 64});
  CHECK(f.tensor("blk.4.ffn_gate.weight").ne == std::vector<uint64_t>{64, 172});
}

TEST_CASE("f16 conversion keeps norms in f32", "[llama2c]") {
  const vkq::Llama2cCheckpoint ckpt(stories());
  const auto bytes = vkq::test::stories260k_gguf(GgmlType::F16);
  const auto f = vkq::GgufFile::from_memory(bytes.data(), bytes.size());
  CHECK(f.metadata().get_u32("general.file_type") == 1);
  for (const auto& t : f.tensors()) {
    INFO(t.name);
    const auto src = ckpt.tensor(t.name);
    const bool norm = t.name.ends_with("norm.weight");
    CHECK(t.type == (norm ? GgmlType::F32 : GgmlType::F16));
    if (norm) continue;
    const auto* h = reinterpret_cast<const uint16_t*>(t.data);
    bool same = true;
    for (size_t i = 0; i < src.size(); ++i) same = same && h[i] == vkq::fp32_to_fp16(src[i]);
    CHECK(same);
  }
}

TEST_CASE("a separate classifier becomes output.weight", "[llama2c]") {
  vkq::test::TempDir dir;
  const auto ckpt_path = dir.write("tiny.bin", tiny_checkpoint(true)).string();
  const vkq::Llama2cCheckpoint ckpt(ckpt_path);
  CHECK(!ckpt.config().shared_classifier);
  CHECK(ckpt.config().vocab_size == 3);
  // token_embedding is floats 0..11; wcls the last 12 floats of the file.
  CHECK(ckpt.tensor("token_embd.weight")[11] == 11.0f);
  CHECK(ckpt.tensor("blk.0.attn_norm.weight")[0] == 12.0f);
  CHECK(ckpt.tensor("blk.0.attn_q.weight")[0] == 16.0f);
  CHECK(ckpt.tensor("blk.0.attn_k.weight").size() == 8);
  CHECK(ckpt.tensor("output.weight")[0] == 12 + 4 + 16 + 8 + 8 + 16 + 4 + 96 + 4 + 4);
  vkq::Vocab v;
  v.tokens = {"<unk>", "<s>", "</s>"};
  v.scores = {0, 0, 0};
  v.types = {vkq::TokenType::unknown, vkq::TokenType::control, vkq::TokenType::control};
  vkq::MemorySink sink;
  vkq::convert_llama2c(ckpt, v, sink, {.name = "tiny"});
  const auto f = vkq::GgufFile::from_memory(sink.bytes.data(), sink.bytes.size());
  CHECK(f.metadata().get_string("general.name") == "tiny");
  const auto& out = f.tensor("output.weight");
  CHECK(out.ne == std::vector<uint64_t>{4, 3});
  CHECK(std::memcmp(out.data, ckpt.tensor("output.weight").data(), 48) == 0);
  CHECK(f.tensors().size() == 12);

  v.tokens.pop_back();
  CHECK_THROWS_WITH(vkq::convert_llama2c(ckpt, v, sink), ContainsSubstring("the vocabulary has 2 tokens, the checkpoint 3"));
  CHECK_THROWS_WITH(vkq::convert_llama2c(ckpt, v, sink, {.type = GgmlType::Q4_0}), ContainsSubstring("use f32 or f16"));
}

TEST_CASE("corrupt llama2.c checkpoints are refused", "[llama2c]") {
  vkq::test::TempDir dir;
  const auto good = tiny_checkpoint(false);
  auto refused = [&](std::vector<uint8_t> b, const std::string& what) {
    INFO(what);
    const auto p = dir.write("bad.bin", b).string();
    CHECK_THROWS_WITH(vkq::Llama2cCheckpoint(p), ContainsSubstring(p) && ContainsSubstring(what));
  };
  for (size_t n : {0ul, 4ul, 27ul, 28ul, good.size() - 4, good.size() - 1}) refused({good.begin(), good.begin() + long(n)}, n < 28 ? "truncated" : "implies");
  auto extra = good;
  extra.push_back(0);
  refused(extra, "implies 716 bytes, the file has 717");
  auto set = [&](int field, int32_t v) {
    auto b = good;
    std::memcpy(b.data() + 4 * field, &v, 4);
    return b;
  };
  refused(set(0, 0), "dim = 0, expected a positive number");
  refused(set(2, -1), "n_layers = -1");
  refused(set(5, INT32_MIN), "vocab_size is out of range");
  refused(set(3, 3), "inconsistent");
  refused(set(4, 3), "inconsistent");
  refused(set(0, 0x616b3432), "magic 'ak42'");
  refused(set(1, INT32_MAX), "implies");  // huge but no overflow: a size mismatch
  refused(set(0, 1 << 30), "(truncated)");
  auto big = set(0, 1 << 30);
  std::memcpy(big.data() + 12, "\x00\x00\x00\x40", 4);  // heads 2^30 too: sizes overflow or mismatch
  refused(big, "bad.bin");
}

TEST_CASE("llama2.c tokenizers are bounds-checked", "[llama2c]") {
  const auto v = vkq::read_llama2c_tokenizer(tok512(), 512);
  CHECK(v.size() == 512);
  CHECK(v.tokens[259] == "\xe2\x96\x81t");
  CHECK_THROWS_WITH(vkq::read_llama2c_tokenizer(tok512(), 100), ContainsSubstring("bytes left after 100 tokens"));
  CHECK_THROWS_WITH(vkq::read_llama2c_tokenizer(tok512(), 513), ContainsSubstring("truncated"));
  CHECK_THROWS_WITH(vkq::read_llama2c_tokenizer(tok512(), 100000), ContainsSubstring("100000 tokens cannot fit"));
  // Too few tokens for its special ids (a fuzzing finding:
  // tests/fuzz/regressions/llama2c_tokenizer/vocab-of-one).
  for (const uint32_t n : {0u, 1u, 2u})
    CHECK_THROWS_WITH(vkq::read_llama2c_tokenizer(tok512(), n), ContainsSubstring("cannot hold llama2.c's <unk>, <s> and </s>"));
  vkq::test::TempDir dir;
  auto bytes = vkq::test::read_file(tok512());
  const int32_t neg = -5;
  std::memcpy(bytes.data() + 4 + 4, &neg, 4);  // token 0's length
  CHECK_THROWS_WITH(vkq::read_llama2c_tokenizer(dir.write("t.bin", bytes).string(), 512), ContainsSubstring("token 0: length -5 is negative"));
  const int32_t huge = 1 << 30;
  std::memcpy(bytes.data() + 4 + 4, &huge, 4);
  CHECK_THROWS_WITH(vkq::read_llama2c_tokenizer(dir.write("t.bin", bytes).string(), 512), ContainsSubstring("past the end"));
  CHECK_THROWS_WITH(vkq::read_llama2c_tokenizer(dir.path("none.bin").string(), 512), ContainsSubstring("cannot open"));
}
