// vkq run through the built CLI on stories260K converted in a temporary
// folder: the reference continuation on --device cpu, --json, seeded
// sampling, and exit 2 for inconsistent models, bad options and devices.
#include <set>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"

using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;
using vkq::test::run_cli;

namespace {

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// stories260K converted by `vkq convert` into `dir`.
std::filesystem::path convert(const vkq::test::TempDir& dir) {
  const auto out = dir.path("stories260K.gguf");
  const std::string m = vkq::test::models_dir();
  const auto r = run_cli("convert " + q(m + "/stories260K.bin") + " --tokenizer " + q(m + "/tok512.bin") + " -o " + q(out));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return out;
}

}  // namespace

TEST_CASE("vkq run --device cpu: greedy stories260K gives the reference text", "[cli][run]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto model = q(convert(dir));
  const auto r = run_cli("run -m " + model + " --device cpu -p 'Once upon a time' -n 40 --temp 0");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, StartsWith(std::string("Once upon a time") + vkq::test::kStoriesContinuation));
  CHECK(r.out == std::string("Once upon a time") + vkq::test::kStoriesContinuation + "ed ball.\n");
  CHECK_THAT(r.err, ContainsSubstring("prompt: 5 tokens"));
  CHECK_THAT(r.err, ContainsSubstring("generation: 40 tokens, 39 decode steps"));
  CHECK_THAT(r.err, ContainsSubstring("tokens/s"));

  const auto js = run_cli("run -m " + model + " -p 'Once upon a time' -n 40 --temp 0 --json", "VKQ_DEVICE=cpu ");
  INFO(js.err);
  REQUIRE(js.exit_code == 0);
  const auto j = nlohmann::json::parse(js.out);
  CHECK(j["schema"] == "vkq.run/1");
  CHECK(j["device"] == "cpu");
  CHECK(j["prompt"] == "Once upon a time");
  CHECK(j["text"] == std::string(vkq::test::kStoriesContinuation) + "ed ball.");
  CHECK(j["prompt_tokens"].get<std::vector<int32_t>>() == vkq::test::kStoriesPromptTokens);
  CHECK(j["tokens"].size() == 40);
  CHECK(j["stop"] == "length");
  CHECK(j["timings"]["decode_steps"] == 39);
  CHECK(j["timings"]["prompt_tokens_per_s"].get<double>() > 0);
  CHECK(j["timings"]["decode_tokens_per_s"].get<double>() > 0);

  const auto none = run_cli("run -m " + model + " --device cpu -p 'Once upon a time' -n 0");
  REQUIRE(none.exit_code == 0);
  CHECK(none.out == "Once upon a time\n");
}

TEST_CASE("vkq run: the same seed gives the same text, other seeds other text", "[cli][run]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto model = q(convert(dir));
  auto text = [&](int seed) {
    const auto r = run_cli("run -m " + model + " --device cpu -p 'Once upon a time' -n 30 --temp 1 --top-k 0 "
                           "--top-p 1 --json --seed " + std::to_string(seed));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["sampler"]["seed"] == seed);
    return j["text"].get<std::string>();
  };
  const auto a = text(1);
  CHECK(text(1) == a);
  const std::set<std::string> texts = {a, text(2), text(3)};
  CHECK(texts.size() >= 2);  // 30 tokens at temperature 1: three equal texts would be a broken seed
  // Without --seed a random one is drawn and reported.
  const auto r = run_cli("run -m " + model + " -n 2 --json");
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["sampler"]["seed"].is_number_unsigned());
}

TEST_CASE("vkq run refuses inconsistent models with exit 2 naming the key or tensor", "[cli][run]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto good = vkq::test::GgufParts::read(vkq::test::stories260k_gguf());
  auto refused = [&](const vkq::test::GgufParts& p, const std::string& what) {
    const auto path = dir.write("bad.gguf", p.write());
    const auto r = run_cli("run -m " + q(path) + " --device cpu -p hi -n 4");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, ContainsSubstring(what));
    CHECK(r.out.empty());
  };
  {
    auto p = good;
    p.reshape("blk.1.attn_k.weight", {64, 64});
    refused(p, "bad.gguf: tensor 'blk.1.attn_k.weight' has shape 64 x 64, expected 64 x 32");
  }
  {
    auto p = good;
    p.metadata.erase("llama.block_count");
    refused(p, "bad.gguf: key 'llama.block_count' is missing");
  }
  {
    auto p = good;
    p.find("output_norm.weight")->name = "output_norm";
    refused(p, "tensor 'output_norm.weight' is missing");
  }
  const auto r = run_cli("run -m " + q(dir.path("absent.gguf")) + " --device cpu");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, ContainsSubstring("absent.gguf"));
}

TEST_CASE("vkq run: bad options and devices are exit 2", "[cli][run]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto model = q(convert(dir));
  for (const auto& [args, what] : std::vector<std::pair<std::string, std::string>>{
           {"--temp -1", "--temp -1"}, {"--top-p 0", "--top-p 0"}, {"--top-k -3", "--top-k -3"},
           {"--device no-such-device-xyz", "matches no device"}, {"--device no-such-device-xyz", "devices: 0:"}}) {
    INFO(args);
    const auto r = run_cli("run -m " + model + " -n 4 " + args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, ContainsSubstring(what));
  }
  const auto help = run_cli("run --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, ContainsSubstring("cpu for the CPU reference"));
}

TEST_CASE("vkq run on a Vulkan device: greedy stories260K gives the reference text", "[cli][run][gpu]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto model = q(convert(dir));
  const std::string want = std::string("Once upon a time") + vkq::test::kStoriesContinuation + "ed ball.\n";
  // By index, and by default (VKQ_DEVICE unset: the best Vulkan device).
  for (const std::string dev : {"--device 0", ""}) {
    INFO(dev);
    const auto r = run_cli("run -m " + model + " " + dev + " -p 'Once upon a time' -n 40 --temp 0", "env -u VKQ_DEVICE ");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == want);
    CHECK_THAT(r.err, ContainsSubstring("generation: 40 tokens, 39 decode steps"));
  }
  const auto js = run_cli("run -m " + model + " --device 0 -p 'Once upon a time' -n 8 --json");
  REQUIRE(js.exit_code == 0);
  const auto j = nlohmann::json::parse(js.out);
  CHECK(j["device"] == vkq::test::instance().devices()[0].caps.name);
  // The same seed gives the same text on the same device.
  const auto a = run_cli("run -m " + model + " --device 0 -p 'Once' -n 30 --temp 1 --seed 99");
  const auto b = run_cli("run -m " + model + " --device 0 -p 'Once' -n 30 --temp 1 --seed 99");
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
}
