// check_llama_metadata: each required key missing or mistyped is an error
// naming it; optional keys take llama.cpp's defaults.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "llama_hparams.hpp"
#include "synth.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::GgufValue;

namespace {

vkq::LlamaHParams small() {
  return {.context_length = 128, .embedding_length = 64, .block_count = 2, .feed_forward_length = 96,
          .head_count = 4, .head_count_kv = 2, .vocab_size = 300, .rope_dimension_count = 16,
          .rms_norm_eps = 1e-6f, .rope_freq_base = 500000.0f};
}

vkq::GgufMetadata llama_md(const vkq::LlamaHParams& hp) {
  vkq::GgufMetadata md("m.gguf");
  vkq::set_llama_metadata(md, hp);
  vkq::set_vocab_metadata(md, vkq::placeholder_vocab(hp.vocab_size));
  return md;
}

}  // namespace

TEST_CASE("llama metadata round-trips through the GGUF keys", "[llama]") {
  const auto md = llama_md(small());
  CHECK(vkq::check_llama_metadata(md) == small());
  CHECK(md.entries()[0].first == "general.architecture");
}

TEST_CASE("required llama keys are named when missing or mistyped", "[llama]") {
  for (const char* key : {"general.architecture", "llama.context_length", "llama.embedding_length", "llama.block_count",
                          "llama.feed_forward_length", "llama.attention.head_count",
                          "llama.attention.layer_norm_rms_epsilon", "tokenizer.ggml.tokens"}) {
    auto md = llama_md(small());
    md.erase(key);
    CHECK_THROWS_WITH(vkq::check_llama_metadata(md), std::string("m.gguf: key '") + key + "' is missing");
  }
  auto md = llama_md(small());
  md.set("llama.block_count", GgufValue::f32(2));
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), ContainsSubstring("key 'llama.block_count' is f32"));
  md = llama_md(small());
  md.set("general.architecture", GgufValue::string("gpt2"));
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), "m.gguf: key 'general.architecture' is 'gpt2', expected 'llama'");
  md = llama_md(small());
  md.set("llama.vocab_size", GgufValue::u32(301));
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), ContainsSubstring("'llama.vocab_size' = 301 but 'tokenizer.ggml.tokens' has 300"));
  md = llama_md(small());
  md.set("llama.attention.head_count_kv", GgufValue::u32(3));
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), ContainsSubstring("head_count 4 is not a multiple of head_count_kv 3"));
  md = llama_md(small());
  md.set("llama.block_count", GgufValue::u32(671088641));  // a fuzz finding: tables sized by it
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), ContainsSubstring("block_count 671088641 is more than 4096"));
  md = llama_md(small());
  md.set("llama.attention.head_count", GgufValue::u32(0));
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), ContainsSubstring("head_count' is 0"));
  md = llama_md(small());
  md.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(-1));
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), ContainsSubstring("must be positive"));
  md = llama_md(small());
  md.set("llama.rope.dimension_count", GgufValue::u32(17));
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), ContainsSubstring("rope_dimension_count 17 must be even"));
}

TEST_CASE("optional llama keys take llama.cpp's defaults", "[llama]") {
  auto md = llama_md(small());
  for (const char* k : {"llama.attention.head_count_kv", "llama.rope.freq_base", "llama.rope.dimension_count", "llama.vocab_size"})
    md.erase(k);
  const auto hp = vkq::check_llama_metadata(md);
  CHECK(hp.head_count_kv == hp.head_count);
  CHECK(hp.rope_freq_base == 10000.0f);
  CHECK(hp.rope_dimension_count == 16);
  CHECK(hp.vocab_size == 300);
  // Any integer type that fits is accepted (some converters write u64 or i32).
  md.set("llama.context_length", GgufValue::u64(4096));
  md.set("llama.block_count", GgufValue::i32(2));
  md.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f64(1e-5));
  CHECK(vkq::check_llama_metadata(md).context_length == 4096);
  md.set("llama.context_length", GgufValue::u64(1ull << 32));
  CHECK_THROWS_WITH(vkq::check_llama_metadata(md), ContainsSubstring("expected an integer in [0, 2^32)"));
}

TEST_CASE("general.file_type follows llama.cpp's llama_ftype", "[llama]") {
  CHECK(vkq::llama_file_type(vkq::GgmlType::F32) == 0);
  CHECK(vkq::llama_file_type(vkq::GgmlType::F16) == 1);
  CHECK(vkq::llama_file_type(vkq::GgmlType::Q4_0) == 2);
  CHECK(vkq::llama_file_type(vkq::GgmlType::Q4_1) == 3);
  CHECK(vkq::llama_file_type(vkq::GgmlType::Q8_0) == 7);
  CHECK(vkq::llama_file_type(vkq::GgmlType::BF16) == 32);
}
