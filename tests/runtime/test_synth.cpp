// synth: random-weight models at given shapes, streamed; scaled like trained
// weights; the same bytes for the same seed on any thread count.
#include <catch2/catch_test_macros.hpp>

#include <cmath>

#include "byte_sink.hpp"
#include "gguf_reader.hpp"
#include "llama_tensors.hpp"
#include "quant_blocks.hpp"
#include "synth.hpp"
#include "tokenizer.hpp"

using vkq::GgmlType;

namespace {

vkq::ModelConfig tiny_config() {
  return vkq::parse_hf_config(R"({"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300, "max_position_embeddings": 128,
    "rms_norm_eps": 1e-5})", "tiny/config.json");
}

std::vector<uint8_t> synth(const vkq::ModelConfig& c, GgmlType type, uint64_t seed, unsigned threads) {
  vkq::MemorySink sink;
  uint64_t last = 0, total = 0;
  vkq::synth_model(c, sink, {.type = type, .seed = seed, .threads = threads, .progress = [&](uint64_t d, uint64_t t) {
                               CHECK(d >= last);
                               last = d;
                               total = t;
                             }});
  CHECK(last == total);
  CHECK(sink.bytes.size() == total);
  return std::move(sink.bytes);
}

struct Stats {
  double mean = 0, std = 0;
};
Stats stats(const vkq::GgufTensorInfo& t) {
  std::vector<float> x(t.n_elements);
  vkq::dequantize_row(t.type, t.data, x.data(), x.size());
  double s = 0, s2 = 0;
  for (float v : x) {
    s += v;
    s2 += double(v) * v;
  }
  const double m = s / double(x.size());
  return {m, std::sqrt(s2 / double(x.size()) - m * m)};
}

}  // namespace

TEST_CASE("synth writes the llama tensor table with trained-like scales", "[synth]") {
  const auto cfg = tiny_config();
  for (const auto type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0, GgmlType::F16, GgmlType::BF16, GgmlType::F32}) {
    INFO(vkq::ggml_type_name(type));
    const auto bytes = synth(cfg, type, 7, 2);
    const auto f = vkq::GgufFile::from_memory(bytes.data(), bytes.size(), "synth.gguf");
    const auto hp = vkq::check_llama_metadata(f.metadata());
    CHECK(hp == cfg.hp);
    vkq::check_llama_tensors(f, hp);
    CHECK(f.metadata().get_u32("general.file_type") == vkq::llama_file_type(type));
    CHECK(f.metadata().get_uint("vkq.synth.seed") == 7);
    const auto specs = vkq::llama_tensor_specs(hp);
    REQUIRE(f.tensors().size() == specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      const auto& t = f.tensors()[i];
      INFO(t.name);
      CHECK(t.name == specs[i].name);
      CHECK(t.ne == specs[i].ne);
      const auto s = stats(t);
      if (specs[i].always_f32()) {
        CHECK(t.type == GgmlType::F32);
        CHECK(std::fabs(s.mean - 1.0) < 0.01);
        CHECK(s.std < 0.05);
      } else {
        CHECK(t.type == type);
        const double want = 1.0 / std::sqrt(double(t.ne[0]));
        CHECK(std::fabs(s.mean) < 0.2 * want);
        CHECK(std::fabs(s.std / want - 1.0) < 0.15);
      }
    }
  }
}

TEST_CASE("synth output depends on the seed only, not the thread count", "[synth]") {
  const auto cfg = tiny_config();
  const auto a = synth(cfg, GgmlType::Q4_0, 1, 1);
  CHECK(synth(cfg, GgmlType::Q4_0, 1, 3) == a);
  CHECK(synth(cfg, GgmlType::Q4_0, 2, 1) != a);
}

TEST_CASE("the placeholder vocabulary tokenizes", "[synth]") {
  const auto v = vkq::placeholder_vocab(300);
  CHECK(v.size() == 300);
  CHECK(v.tokens[3] == "<0x00>");
  CHECK(v.tokens[299] == "\xe2\x96\x81tok299");
  const auto bytes = synth(tiny_config(), GgmlType::F16, 0, 1);
  const auto f = vkq::GgufFile::from_memory(bytes.data(), bytes.size());
  const auto tok = vkq::make_tokenizer(f.metadata());
  const auto ids = tok->encode("hi there", true);
  CHECK(tok->decode(ids) == "hi there");
  CHECK(vkq::placeholder_vocab(10).size() == 10);
}

TEST_CASE("a TinyLlama-shaped layer (2048 x 5632) synthesizes and checks out", "[synth]") {
  auto cfg = vkq::named_model_config("tinyllama-1.1b");
  cfg.hp.block_count = 1;  // one real-sized layer keeps the test quick
  cfg.hp.vocab_size = 512;
  const auto bytes = synth(cfg, GgmlType::Q4_0, 3, 0);
  const auto f = vkq::GgufFile::from_memory(bytes.data(), bytes.size());
  const auto& k = f.tensor("blk.0.attn_k.weight");
  CHECK(k.ne == std::vector<uint64_t>{2048, 256});
  CHECK(k.bytes == 2048ull * 256 / 32 * 18);
  const auto& down = f.tensor("blk.0.ffn_down.weight");
  CHECK(down.ne == std::vector<uint64_t>{5632, 2048});
  CHECK(std::fabs(stats(down).std * std::sqrt(5632.0) - 1.0) < 0.1);
}
