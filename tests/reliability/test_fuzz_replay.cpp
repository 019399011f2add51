// The fuzz targets (tests/fuzz/fuzz_*.cpp) as unit tests: every seed in
// tests/fuzz/corpus/<name>/ and every saved finding in
// tests/fuzz/regressions/<name>/ passes the target's own checks, the seeds
// this file generates are the ones in the repository, and every target is
// listed here (GGUF's are replayed by tests/runtime/test_gguf_reader.cpp).
// Regenerate the seeds: VKQ_FUZZ_CORPUS_OUT=tests/fuzz/corpus vkq_tests "[.fuzz-corpora]".
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "llama2c.hpp"

#include "reliability/eval_fuzz_seeds.hpp"
#include "support/gguf_builder.hpp"
#include "support/llama_models.hpp"

namespace vkq::fuzz {
void check_llama2c_checkpoint(const uint8_t* data, size_t size);
void check_llama2c_tokenizer(const uint8_t* data, size_t size);
void check_tokenizer_encode(const uint8_t* data, size_t size);
void check_hf_config(const uint8_t* data, size_t size);
void check_eval_set(const uint8_t* data, size_t size);
void check_scorecard_config(const uint8_t* data, size_t size);
void check_scorecard_json(const uint8_t* data, size_t size);
}  // namespace vkq::fuzz

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

struct Target {
  const char* name;
  void (*check)(const uint8_t*, size_t);
};
constexpr Target kTargets[] = {
    {"llama2c_checkpoint", vkq::fuzz::check_llama2c_checkpoint},
    {"llama2c_tokenizer", vkq::fuzz::check_llama2c_tokenizer},
    {"tokenizer_encode", vkq::fuzz::check_tokenizer_encode},
    {"hf_config", vkq::fuzz::check_hf_config},
    {"eval_set", vkq::fuzz::check_eval_set},
    {"scorecard_config", vkq::fuzz::check_scorecard_config},
    {"scorecard_json", vkq::fuzz::check_scorecard_json},
};
constexpr const char* kReplayedElsewhere[] = {"gguf_reader"};

const fs::path kFuzzDir = fs::path(VKQ_SOURCE_DIR) / "tests/fuzz";

struct Writer {
  Bytes b;
  Writer& i32(int32_t v) { return raw(&v, 4); }
  Writer& u16(uint16_t v) { return raw(&v, 2); }
  Writer& f32(float v) { return raw(&v, 4); }
  Writer& str(const std::string& s) { return raw(s.data(), s.size()); }
  Writer& raw(const void* p, size_t n) {
    b.insert(b.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
    return *this;
  }
};

// A llama2.c checkpoint of the header's shape with small deterministic weights.
Bytes checkpoint(int32_t dim, int32_t hidden, int32_t layers, int32_t heads, int32_t kv_heads, int32_t vocab, int32_t seq) {
  Writer w;
  for (const int32_t v : {dim, hidden, layers, heads, kv_heads, vocab, seq}) w.i32(v);
  const int64_t V = std::abs(vocab), kv_dim = int64_t(dim) / heads * kv_heads, head = dim / heads;
  const int64_t floats = V * dim + layers * (2 * dim + 2 * int64_t(dim) * dim + 2 * kv_dim * dim + 3 * int64_t(hidden) * dim) +
                         dim + int64_t(seq) * head + (vocab < 0 ? V * dim : 0);
  for (int64_t i = 0; i < floats; ++i) w.f32(static_cast<float>((i * 37) % 101) / 101.0f - 0.5f);
  return w.b;
}

// A llama2.c tokenizer file, with the u16 token count the fuzz target reads first.
Bytes tokenizer_input(const std::vector<std::string>& texts) {
  Writer w;
  w.u16(static_cast<uint16_t>(texts.size()));
  size_t longest = 0;
  for (const auto& t : texts) longest = std::max(longest, t.size());
  w.i32(static_cast<int32_t>(longest));
  for (size_t i = 0; i < texts.size(); ++i) w.f32(-static_cast<float>(i)).i32(static_cast<int32_t>(texts[i].size())).str(texts[i]);
  return w.b;
}

Bytes text(uint8_t settings, const std::string& s) {
  const std::string b = std::string(1, static_cast<char>(settings)) + s;
  return Bytes(b.begin(), b.end());
}

Bytes json(const std::string& s) { return Bytes(s.begin(), s.end()); }

// name -> file -> bytes
std::map<std::string, std::map<std::string, Bytes>> generated_seeds() {
  std::map<std::string, std::map<std::string, Bytes>> s;
  auto& ck = s["llama2c_checkpoint"];
  ck["tied_gqa.bin"] = checkpoint(8, 12, 2, 2, 1, 6, 4);
  ck["separate_classifier.bin"] = checkpoint(8, 12, 1, 2, 2, -6, 2);
  ck["one_head.bin"] = checkpoint(4, 4, 1, 1, 1, 3, 2);
  ck["v1_export.bin"] = Writer().i32(0x616b3432).i32(1).i32(8).i32(12).i32(2).i32(2).i32(1).b;

  auto& tk = s["llama2c_tokenizer"];
  tk["tiny.seed"] = tokenizer_input({"<unk>", "\n<s>\n", "\n</s>\n", "<0x41>", " a", "", "a b", "\xc3\xa9"});

  auto& en = s["tokenizer_encode"];
  en["story.txt"] = text(0x04, "Once upon a time, there was a little girl named Lily. She loved to play outside.");
  en["spaces.txt"] = text(0x0c, "  two  spaces \xe2\x96\x81 and a U+2581, tabs\tand\nnewlines ");
  {
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    en["every_byte_no_prefix.txt"] = text(0x01, all);
    en["every_byte_no_byte_tokens.txt"] = text(0x02, all);
  }
  en["specials.txt"] = text(0x0e, "<s></s><unk><0x41>\xc3\xa9\xff\xfe\xe2\x96");
  en["ties.txt"] = text(0x03, "aaaabababa aab <s> \xc3\xa9" "a ab");

  auto& hf = s["hf_config"];
  hf["llama-2-7b.json"] = json(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 11008,
  "max_position_embeddings": 4096, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
  "num_key_value_heads": 32, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": false,
  "vocab_size": 32000, "_name_or_path": "meta-llama/Llama-2-7b-hf"})");
  hf["llama-3.1-8b.json"] = json(R"({"hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 131072,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
  "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "rope_theta": 500000.0, "head_dim": 128,
  "tie_word_embeddings": false, "vocab_size": 128256})");
  hf["mistral-7b.json"] = json(R"({"hidden_size": 4096, "intermediate_size": 14336, "max_position_embeddings": 32768,
  "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "vocab_size": 32000})");
  hf["tiny_tied.json"] = json(R"({"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 5,
  "num_attention_heads": 8, "num_key_value_heads": 4, "vocab_size": 512, "max_position_embeddings": 512,
  "tie_word_embeddings": true, "rope_scaling": null})");
  vkq::test::add_eval_fuzz_seeds(s);
  return s;
}

}  // namespace

TEST_CASE("fuzz targets: seeds and saved findings pass their checks", "[fuzz]") {
  for (const auto& t : kTargets) {
    INFO("target " << t.name);
    const auto seeds = vkq::test::files_in(kFuzzDir / "corpus" / t.name);
    CHECK(!seeds.empty());
    std::vector<fs::path> files = seeds;
    if (fs::is_directory(kFuzzDir / "regressions" / t.name))
      for (const auto& p : vkq::test::files_in(kFuzzDir / "regressions" / t.name)) files.push_back(p);
    for (const auto& p : files) {
      INFO(p.string());
      const Bytes b = vkq::test::read_file(p);
      CHECK_NOTHROW(t.check(b.data(), b.size()));
    }
  }
}

TEST_CASE("fuzz targets: the repository holds the generated seeds, and every target is replayed", "[fuzz]") {
  for (const auto& [name, files] : generated_seeds())
    for (const auto& [file, bytes] : files) {
      INFO(name << "/" << file << " (regenerate: VKQ_FUZZ_CORPUS_OUT=tests/fuzz/corpus vkq_tests \"[.fuzz-corpora]\")");
      CHECK(vkq::test::read_file(kFuzzDir / "corpus" / name / file) == bytes);
    }
  for (const auto& e : fs::directory_iterator(kFuzzDir)) {
    const std::string stem = e.path().stem().string();
    if (e.path().extension() != ".cpp" || stem.rfind("fuzz_", 0) != 0) continue;
    const std::string name = stem.substr(5);
    bool listed = false;
    for (const auto& t : kTargets) listed |= name == t.name;
    for (const char* n : kReplayedElsewhere) listed |= name == n;
    INFO(e.path().string() << " is not in kTargets of " << __FILE__);
    CHECK(listed);
  }
}

// The real vocabulary as a seed, from VKQ_MODELS_DIR (scripts/fuzz.sh makes
// the same input at run time; the models are not in the repository).
TEST_CASE("fuzz targets: stories260K's tokenizer as a llama2c_tokenizer input", "[fuzz][llama2c]") {
  VKQ_REQUIRE_STORIES260K();
  const Bytes real = vkq::test::read_file(vkq::test::models_dir() + "/tok512.bin");
  Bytes b = Writer().u16(512).b;
  b.insert(b.end(), real.begin(), real.end());
  CHECK_NOTHROW(vkq::fuzz::check_llama2c_tokenizer(b.data(), b.size()));
}

// Findings too large for the fuzzers' 64 KiB inputs, made here instead.
TEST_CASE("fuzz targets: a llama2.c checkpoint of 4097 blocks is refused before conversion", "[fuzz][llama2c]") {
  // dim 2, one head: 104 bytes per block, 426 KB in all. The loader refuses
  // more than 4096 blocks, so convert must not write such a file.
  const Bytes b = checkpoint(2, 1, 4097, 1, 1, 1, 1);
  try {
    vkq::fuzz::check_llama2c_checkpoint(b.data(), b.size());  // refused: returns
    (void)vkq::Llama2cCheckpoint::from_memory(b.data(), b.size(), "deep.bin");
    FAIL("a checkpoint of 4097 blocks was accepted");
  } catch (const vkq::InputError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Matchers::ContainsSubstring("deep.bin: block_count 4097 is more than 4096"));
  }
  const Bytes ok = checkpoint(2, 1, 16, 1, 1, 1, 1);
  CHECK_NOTHROW(vkq::fuzz::check_llama2c_checkpoint(ok.data(), ok.size()));
}

TEST_CASE("write the fuzz seed corpora", "[.fuzz-corpora]") {
  const char* out = std::getenv("VKQ_FUZZ_CORPUS_OUT");
  REQUIRE(out);
  for (const auto& [name, files] : generated_seeds()) {
    fs::create_directories(fs::path(out) / name);
    for (const auto& [file, bytes] : files) {
      std::ofstream f(fs::path(out) / name / file, std::ios::binary);
      f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
  }
}
