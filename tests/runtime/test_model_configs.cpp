// Named model configs, Hugging Face config.json parsing, and the planned
// tensor tables and file sizes of the named configs (nothing is written).
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_floating_point.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>

#include "error.hpp"
#include "llama_tensors.hpp"
#include "model_configs.hpp"
#include "support/gguf_builder.hpp"
#include "synth.hpp"

using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::WithinRel;
using vkq::GgmlType;

TEST_CASE("named configs carry the published hyperparameters", "[configs]") {
  const auto names = vkq::known_model_configs();
  CHECK(names == std::vector<std::string>{"llama-2-7b", "llama-3-8b", "mistral-7b", "tinyllama-1.1b", "llama-3.1-70b"});
  const auto l2 = vkq::named_model_config("llama-2-7b").hp;
  CHECK(l2 == vkq::LlamaHParams{4096, 4096, 32, 11008, 32, 32, 32000, 128, 1e-5f, 10000.0f});
  const auto l3 = vkq::named_model_config("llama-3-8b").hp;
  CHECK(l3 == vkq::LlamaHParams{8192, 4096, 32, 14336, 32, 8, 128256, 128, 1e-5f, 500000.0f});
  const auto m = vkq::named_model_config("mistral-7b").hp;
  CHECK(m == vkq::LlamaHParams{32768, 4096, 32, 14336, 32, 8, 32000, 128, 1e-5f, 10000.0f});
  const auto t = vkq::named_model_config("tinyllama-1.1b").hp;
  CHECK(t == vkq::LlamaHParams{2048, 2048, 22, 5632, 32, 4, 32000, 64, 1e-5f, 10000.0f});
  const auto l70 = vkq::named_model_config("llama-3.1-70b");
  CHECK(l70.hp == vkq::LlamaHParams{131072, 8192, 80, 28672, 64, 8, 128256, 128, 1e-5f, 500000.0f});
  CHECK(l70.rope_scaling == vkq::Llama3RopeScaling{8.0f, 1.0f, 4.0f, 8192});
  for (const auto& n : names) CHECK_NOTHROW(vkq::validate_llama_hparams(vkq::named_model_config(n).hp, n));
  try {
    vkq::named_model_config("llama-9-1t");
    FAIL("accepted");
  } catch (const vkq::InputError& e) {
    CHECK_THAT(e.what(), ContainsSubstring("unknown model config 'llama-9-1t'"));
    CHECK_THAT(e.hint(), ContainsSubstring("llama-2-7b, llama-3-8b, mistral-7b, tinyllama-1.1b, llama-3.1-70b"));
  }
}

TEST_CASE("Llama 3.1 rope scaling factors as llama.cpp's converter computes them", "[configs]") {
  const auto f = vkq::named_model_config("llama-3.1-70b").rope_freqs();
  REQUIRE(f.size() == 64);
  CHECK(f.front() == 1.0f);  // highest frequency: unscaled
  CHECK(f.back() == 8.0f);   // lowest: scaled by the factor
  for (size_t i = 1; i < f.size(); ++i) CHECK(f[i] >= f[i - 1]);
  // Frequencies between the two wavelength bounds are smoothed: 1 < f < 8.
  CHECK(std::count_if(f.begin(), f.end(), [](float v) { return v > 1.0f && v < 8.0f; }) > 0);
  CHECK(vkq::named_model_config("llama-3-8b").rope_freqs().empty());
}

TEST_CASE("a Hugging Face config.json gives the same shapes", "[configs]") {
  const std::string tinyllama = R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "_name_or_path": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
    "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
    "num_key_value_heads": 4, "vocab_size": 32000, "max_position_embeddings": 2048, "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0, "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";
  const auto c = vkq::parse_hf_config(tinyllama, "config.json");
  CHECK(c.hp == vkq::named_model_config("tinyllama-1.1b").hp);
  CHECK(c.name == "TinyLlama-1.1B-Chat-v1.0");
  CHECK(!c.tied_embeddings);
  const std::string llama31 = R"({"model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672,
    "num_hidden_layers": 80, "num_attention_heads": 64, "num_key_value_heads": 8, "vocab_size": 128256,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"}})";
  const auto c31 = vkq::parse_hf_config(llama31, "/m/Llama-3.1-70B/config.json");
  CHECK(c31.name == "Llama-3.1-70B");
  CHECK(c31.hp == vkq::named_model_config("llama-3.1-70b").hp);
  CHECK(c31.rope_freqs() == vkq::named_model_config("llama-3.1-70b").rope_freqs());
  // Defaults: kv heads = heads, rope theta 10000, eps 1e-6 (LlamaConfig's).
  const auto d = vkq::parse_hf_config(R"({"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "vocab_size": 300, "max_position_embeddings": 128, "tie_word_embeddings": true})", "c.json");
  CHECK(d.hp.head_count_kv == 4);
  CHECK(d.hp.rope_freq_base == 10000.0f);
  CHECK(d.hp.rms_norm_eps == 1e-6f);
  CHECK(d.tied_embeddings);
}

TEST_CASE("bad config.json files name the key", "[configs]") {
  const std::string base = R"("hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "vocab_size": 300, "max_position_embeddings": 128)";
  auto bad = [&](const std::string& json, const std::string& what) {
    INFO(json);
    CHECK_THROWS_WITH(vkq::parse_hf_config(json, "cfg.json"), ContainsSubstring("cfg.json") && ContainsSubstring(what));
  };
  bad("{" + base + "}", "key 'num_attention_heads' is missing");
  bad("{" + base + R"(, "num_attention_heads": 4.5})", "key 'num_attention_heads' = 4.5, expected a positive integer");
  bad("{" + base + R"(, "num_attention_heads": -4})", "expected a positive integer");
  bad("{" + base + R"(, "num_attention_heads": 5})", "hidden_size 64 is not a multiple of num_attention_heads 5");
  bad("{" + base + R"(, "num_attention_heads": 4, "num_key_value_heads": 3})", "head_count 4 is not a multiple of head_count_kv 3");
  bad("{" + base + R"(, "num_attention_heads": 4, "model_type": "gpt2"})", "model_type 'gpt2' is not a llama-architecture model");
  bad("{" + base + R"(, "num_attention_heads": 4, "rope_scaling": {"type": "yarn"}})", "rope_scaling type 'yarn': not supported yet");
  bad("{" + base + R"(, "num_attention_heads": 4, "head_dim": 32})", "head_dim 32 differs");
  bad("{" + base + R"(, "num_attention_heads": 4, "rope_theta": "big"})", "key 'rope_theta'");
  bad("[1, 2]", "expected a JSON object");
  bad("{nope", "not valid JSON");
  CHECK_THROWS_WITH(vkq::load_model_config("/nonexistent/config.json"), ContainsSubstring("/nonexistent/config.json: cannot open"));
  vkq::test::TempDir dir;
  CHECK_THROWS_WITH(vkq::load_model_config(dir.dir().string()), ContainsSubstring("config.json: cannot open"));
  const std::string tiny = R"({"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
    "vocab_size": 300, "max_position_embeddings": 128})";
  dir.write("config.json", std::vector<uint8_t>(tiny.begin(), tiny.end()));
  CHECK(vkq::load_model_config(dir.dir().string()).hp.block_count == 2);
  CHECK(vkq::load_model_config(dir.path("config.json").string()).hp.block_count == 2);
}

TEST_CASE("planned files: Llama-2-7B Q4_0 is 291 tensors and 3.53 GiB", "[configs]") {
  const auto w = vkq::synth_layout(vkq::named_model_config("llama-2-7b"), GgmlType::Q4_0);
  CHECK(w.tensors().size() == 291);  // 32 x 9 + token_embd + output_norm + output
  uint64_t data = 0, weights = 0;
  for (const auto& t : w.tensors()) {
    data += t.bytes;
    weights += t.n_elements;
    CHECK(t.type == (t.name.ends_with("norm.weight") ? GgmlType::F32 : GgmlType::Q4_0));
  }
  CHECK(weights == 6738415616ull);  // Llama-2-7B's parameter count
  // 6,476,005,376 matrix weights at 18 bytes / 32, 266,240 norm weights at 4 bytes
  CHECK(data == 3642753024ull + 147456000ull + 1064960ull);
  CHECK(w.file_size() - data < 1'000'000);  // the header: mostly the placeholder vocabulary
  CHECK_THAT(double(w.file_size()) / double(1ull << 30), WithinRel(3.53, 0.002));

  const auto w70 = vkq::synth_layout(vkq::named_model_config("llama-3.1-70b"), GgmlType::Q4_0);
  CHECK(w70.tensors().size() == 724);  // 80 x 9 + 4 (rope_freqs included)
  CHECK(w70.tensors()[1].name == "rope_freqs.weight");
  const auto tiny = vkq::synth_layout(vkq::named_model_config("tinyllama-1.1b"), GgmlType::F16);
  CHECK(tiny.tensors().size() == 201);
}
