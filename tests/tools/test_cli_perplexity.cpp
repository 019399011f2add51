// vkq perplexity through the built CLI: a model against itself (KLD 0, top-1
// 100%), windows and counts, text and JSON output, the Vulkan device
// agreeing with the CPU reference, and exit 2 for bad input.
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"

using Catch::Approx;
using Catch::Matchers::ContainsSubstring;
using vkq::test::run_cli;

namespace {

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
const std::string kText = q(std::string(VKQ_SOURCE_DIR) + "/quant/data/heldout.txt");

nlohmann::json parse(const vkq::test::CliResult& r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("vkq perplexity: a model against itself, and against its Q8_0 copy", "[cli][perplexity]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto f32 = q(dir.write("f32.gguf", vkq::test::stories260k_gguf()));
  const auto q8 = q(dir.write("q8.gguf", vkq::test::stories260k_requantized(vkq::GgmlType::Q8_0)));
  const auto self = parse(run_cli("perplexity -m " + f32 + " -f " + kText + " --ref " + f32 + " --ctx 128 --device cpu --json"));
  CHECK(self["schema"] == "vkq.perplexity/1");
  CHECK(self["ctx"] == 128);
  const uint64_t windows = self["windows"];
  CHECK(windows > 20);
  CHECK(self["tokens"] == windows * (128 - 1 - 64));  // the second half of each window
  CHECK(self["kld"]["mean"] == 0.0);
  CHECK(self["kld"]["max"] == 0.0);
  CHECK(self["top1"]["rate"] == 1.0);
  CHECK(self["ppl_ratio"] == Approx(1.0));
  CHECK(self["ppl"].get<double>() > 2);
  CHECK(self["ppl"].get<double>() < 30);
  // The same windows without a reference give the same perplexity.
  const auto alone = parse(run_cli("perplexity -m " + f32 + " -f " + kText + " --ctx 128 --device cpu --json"));
  CHECK(alone["ppl"] == self["ppl"]);
  CHECK_FALSE(alone.contains("kld"));

  const auto j = parse(run_cli("perplexity -m " + q8 + " -f " + kText + " --ref " + f32 + " --ctx 128 --device cpu --json"));
  CHECK(j["kld"]["mean"].get<double>() > 0);
  CHECK(j["kld"]["mean"].get<double>() < 0.01);
  CHECK(j["kld"]["p99"].get<double>() >= j["kld"]["median"].get<double>());
  CHECK(j["top1"]["rate"].get<double>() > 0.95);
  CHECK(j["reference_scores"]["ppl"] == self["ppl"]);
  CHECK(j["delta_p"]["min"].get<double>() <= j["delta_p"]["max"].get<double>());

  const auto text = run_cli("perplexity -m " + q8 + " -f " + kText + " --ref " + f32 + " --ctx 128 --device cpu");
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(text.out, ContainsSubstring("tokens scored (the second half of each window)"));
  CHECK_THAT(text.out, ContainsSubstring("PPL "));
  CHECK_THAT(text.out, ContainsSubstring("KLD mean "));
  CHECK_THAT(text.out, ContainsSubstring("same top token: "));
}

TEST_CASE("vkq perplexity on the Vulkan device agrees with the CPU reference", "[cli][perplexity][gpu]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto f32 = q(dir.write("f32.gguf", vkq::test::stories260k_gguf()));
  const auto q4 = q(dir.write("q4.gguf", vkq::test::stories260k_requantized(vkq::GgmlType::Q4_0)));
  const std::string args = "perplexity -m " + q4 + " -f " + kText + " --ref " + f32 + " --ctx 256 --json --device ";
  const auto cpu = parse(run_cli(args + "cpu"));
  const auto gpu = parse(run_cli(args + "0"));
  CHECK(gpu["tokens"] == cpu["tokens"]);
  CHECK(gpu["ppl"].get<double>() == Approx(cpu["ppl"].get<double>()).epsilon(2e-3));
  CHECK(gpu["kld"]["mean"].get<double>() == Approx(cpu["kld"]["mean"].get<double>()).epsilon(0.05));
}

TEST_CASE("vkq perplexity: bad input is exit 2", "[cli][perplexity]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto f32 = q(dir.write("f32.gguf", vkq::test::stories260k_gguf()));
  auto parts = vkq::test::GgufParts::read(vkq::test::stories260k_gguf());
  auto tokens = parts.metadata.get_strings("tokenizer.ggml.tokens");
  tokens[300] = "xyzzy";
  parts.metadata.set("tokenizer.ggml.tokens", vkq::GgufValue::string_array(tokens));
  const auto other = q(dir.write("other.gguf", parts.write()));
  const std::string s = "Once upon a time.";
  const auto tiny = q(dir.write("tiny.txt", {s.begin(), s.end()}));
  for (const auto& [args, what] : std::vector<std::pair<std::string, std::string>>{
           {"-m " + f32 + " -f " + tiny + " --device cpu", "one window of --ctx 512 needs 511"},
           {"-m " + f32 + " -f " + q(dir.path("absent.txt")) + " --device cpu", "absent.txt: cannot read the text"},
           {"-m " + f32 + " -f " + kText + " --ref " + other + " --device cpu", "have different vocabularies"},
           {"-m " + f32 + " -f " + kText + " --ctx 1024 --device cpu", "--ctx 1024 is longer than the model's context of 512"},
           {"-m " + f32 + " -f " + kText + " --ctx 2 --device cpu", "--ctx 2: windows need at least 4 tokens"},
       }) {
    INFO(args);
    const auto r = run_cli("perplexity " + args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, ContainsSubstring(what));
  }
}
