// vkq inspect / convert / synth through the built CLI: outputs, exit codes
// (2 for bad input, naming the file/key/tensor), and no partial files left.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include "gguf_reader.hpp"
#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::test::run_cli;
using vkq::test::RawGguf;

namespace {

std::string models(const std::string& f) { return "'" + vkq::test::models_dir() + "/" + f + "'"; }
std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

}  // namespace

TEST_CASE("vkq convert + inspect on stories260K", "[cli]") {
  vkq::test::TempDir dir;
  const auto out = dir.path("stories260K.gguf");
  const auto r = run_cli("convert " + models("stories260K.bin") + " --tokenizer " + models("tok512.bin") + " -o " + q(out));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, ContainsSubstring("wrote"));
  CHECK(r.err.empty());  // no progress line when stderr is not a terminal
  CHECK(dir.list() == std::vector<std::string>{"stories260K.gguf"});
  CHECK(vkq::test::read_file(out) == vkq::test::stories260k_gguf());

  const auto text = run_cli("inspect " + q(out));
  REQUIRE(text.exit_code == 0);
  for (const char* s : {"GGUF v3", "general.architecture", "\"llama\"", "tokenizer.ggml.tokens", "[str x 512: \"<unk>\"",
                        "blk.4.ffn_down.weight", "172 x 64", "F32", "44032", "47 tensors, 260032 weights",
                        "32.00 bits per weight", "llama: dim 64, hidden 172, layers 5, heads 8 (kv 4), vocab 512"})
    CHECK_THAT(text.out, ContainsSubstring(s));

  const auto js = run_cli("inspect --json " + q(out));
  REQUIRE(js.exit_code == 0);
  const auto j = nlohmann::json::parse(js.out);
  CHECK(j["schema"] == "vkq.inspect/1");
  CHECK(j["version"] == 3);
  CHECK(j["tensors"].size() == 47);
  CHECK(j["tensors"][0]["name"] == "token_embd.weight");
  CHECK(j["tensors"][0]["shape"] == nlohmann::json::array({64, 512}));
  CHECK(j["tensors"][0]["type"] == "F32");
  CHECK(j["tensors"][0]["bytes"] == 131072);
  CHECK(j["metadata"]["llama.block_count"] == 5);
  CHECK(j["metadata"]["llama.attention.layer_norm_rms_epsilon"] == 1e-5);
  CHECK(j["metadata"]["tokenizer.ggml.tokens"]["count"] == 512);  // long arrays are summarised
  CHECK(j["metadata"]["tokenizer.ggml.tokens"]["head"][1] == "<s>");
  CHECK(j["totals"]["weights"] == 260032);
  CHECK(j["totals"]["bits_per_weight"] == 32.0);
  CHECK(j["llama"]["vocab_size"] == 512);

  const auto f16 = dir.path("s16.gguf");
  REQUIRE(run_cli("convert " + models("stories260K.bin") + " --tokenizer " + models("tok512.bin") + " --type f16 -o " + q(f16)).exit_code == 0);
  const auto j16 = nlohmann::json::parse(run_cli("inspect --json " + q(f16)).out);
  CHECK(j16["tensors"][0]["type"] == "F16");
  CHECK(j16["totals"]["bits_per_weight"].get<double>() < 16.1);
}

TEST_CASE("vkq convert refuses bad input with exit 2 and leaves no file", "[cli]") {
  vkq::test::TempDir dir;
  const auto out = q(dir.path("o.gguf"));
  auto refused = [&](const std::string& args, const std::string& what) {
    INFO(args);
    const auto r = run_cli(args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, ContainsSubstring(what));
    CHECK(dir.list().size() <= 1);  // only the inputs written below, never o.gguf or a temp file
    CHECK(!std::filesystem::exists(dir.path("o.gguf")));
  };
  refused("convert " + models("stories260K.bin") + " -o " + out, "needs its tokenizer");
  refused("convert " + models("stories260K.bin") + " --tokenizer " + models("tok512.bin") + " --type q4_0 -o " + out, "--type 'q4_0' is not f32 or f16");
  refused("convert /nonexistent.bin --tokenizer " + models("tok512.bin") + " -o " + out, "/nonexistent.bin: cannot open");
  refused("convert " + models("tok512.bin") + " --tokenizer " + models("tok512.bin") + " -o " + out, "tok512.bin");
  auto ckpt = vkq::test::read_file(vkq::test::models_dir() + "/stories260K.bin");
  ckpt.resize(ckpt.size() - 100);
  const auto cut = dir.write("cut.bin", ckpt);
  refused("convert " + q(cut) + " --tokenizer " + models("tok512.bin") + " -o " + out, "(truncated)");
  std::filesystem::remove(cut);
  refused("convert " + models("stories260K.bin") + " --tokenizer " + models("stories260K.bin") + " -o " + out, "stories260K.bin");
  refused("convert " + models("stories260K.bin") + " --tokenizer " + models("tok512.bin"), "--output is required");
}

TEST_CASE("vkq inspect refuses corrupt files with exit 2 naming the problem", "[cli]") {
  vkq::test::TempDir dir;
  const auto good = vkq::test::small_gguf();
  auto cut = good;
  cut.resize(good.size() / 2);
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> cases = {
      {cut, "past the end"},
      {{'G', 'G', 'M', 'L', 0, 0, 0, 0}, "not a GGUF file"},
      {RawGguf().header(0, 1ull << 60).b, "metadata count 1152921504606846976 cannot fit"},
      {RawGguf().header(1, 0).tensor("blk.0.attn_q.weight", {8}, 77, 0).pad().zeros(32).b, "tensor 'blk.0.attn_q.weight': unknown ggml type id 77"},
      {RawGguf().header(2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).pad().zeros(64).b, "duplicate tensor 'a'"},
      {RawGguf().header(0, 1).kv_u32("general.alignment", 0).b, "'general.alignment' = 0 is not a power of two"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto p = dir.write("bad" + std::to_string(i) + ".gguf", cases[i].first);
    const auto r = run_cli("inspect " + q(p));
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, ContainsSubstring(p.string()) && ContainsSubstring(cases[i].second));
  }
  CHECK(run_cli("inspect /nonexistent.gguf").exit_code == 2);
  // Known-but-unsupported types are listed by inspect, not refused.
  const auto q4k = dir.write("q4k.gguf", RawGguf().header(1, 0).tensor("w", {256}, 12, 0).pad().zeros(160).b);
  const auto r = run_cli("inspect " + q(q4k));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, ContainsSubstring("Q4_K") && ContainsSubstring("not supported yet"));
  CHECK_THAT(r.out, ContainsSubstring("llama: not loadable"));
}

TEST_CASE("vkq synth writes a loadable model; bad configs are exit 2", "[cli]") {
  vkq::test::TempDir dir;
  const auto cfg = dir.write("config.json", [] {
    const std::string s = R"({"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
      "num_key_value_heads": 2, "vocab_size": 300, "max_position_embeddings": 128})";
    return std::vector<uint8_t>(s.begin(), s.end());
  }());
  const auto out = dir.path("m.gguf");
  const auto r = run_cli("synth " + q(cfg) + " --type q4_0 --seed 5 -o " + q(out));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, ContainsSubstring("Q4_0"));
  const auto f = vkq::GgufFile::open(out.string());
  CHECK(f.tensors().size() == 21);
  CHECK(f.metadata().get_uint("vkq.synth.seed") == 5);
  const auto j = nlohmann::json::parse(run_cli("inspect --json " + q(out)).out);
  CHECK(j["llama"]["block_count"] == 2);
  // bits per weight: Q4_0 matrices (4.5) with f32 norms
  CHECK(j["totals"]["bits_per_weight"].get<double>() > 4.5);
  CHECK(j["totals"]["bits_per_weight"].get<double>() < 5.0);

  auto refused = [&](const std::string& args, const std::string& what) {
    INFO(args);
    const auto e = run_cli(args);
    CHECK(e.exit_code == 2);
    CHECK_THAT(e.err, ContainsSubstring(what));
  };
  refused("synth llama-9-1t --type q4_0 -o " + q(dir.path("x.gguf")), "unknown model config 'llama-9-1t'");
  refused("synth llama-9-1t --type q4_0 -o " + q(dir.path("x.gguf")), "known configs: llama-2-7b");
  refused("synth llama-2-7b --type q4_k -o " + q(dir.path("x.gguf")), "--type 'q4_k' is not a weight type");
  refused("synth /nonexistent/config.json --type f16 -o " + q(dir.path("x.gguf")), "cannot open");
  // dim 48 rows are not whole Q4_0 blocks: refused naming the tensor, no file left
  const auto odd = dir.write("odd.json", [] {
    const std::string s = R"({"hidden_size": 48, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 4,
      "vocab_size": 300, "max_position_embeddings": 128})";
    return std::vector<uint8_t>(s.begin(), s.end());
  }());
  refused("synth " + q(odd) + " --type q4_0 -o " + q(dir.path("x.gguf")), "tensor 'token_embd.weight': row length 48");
  CHECK(dir.list() == std::vector<std::string>{"config.json", "m.gguf", "odd.json"});
}
