// vkq fit: the table and JSON for a named config on a hypothetical device and
// for a converted stories260K on the Vulkan device, and bad input (exit 2).
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::test::run_cli;

TEST_CASE("vkq fit --config: raw lower bound beside the real size, KV cache and the rest", "[cli][fit]") {
  const auto r = run_cli("fit --config llama-3.1-70b --type q4_0 --ctx 8192 --memory 80GiB");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, ContainsSubstring("raw weights at 4 bits (lower bound)"));
  CHECK_THAT(r.out, ContainsSubstring("32.85 GiB"));
  CHECK_THAT(r.out, ContainsSubstring("weights (4.50 bits per weight)"));
  CHECK_THAT(r.out, ContainsSubstring("36.97 GiB"));
  CHECK_THAT(r.out, ContainsSubstring("2.50 GiB"));  // KV cache at 8192 tokens
  CHECK_THAT(r.out, ContainsSubstring("fits"));
  const auto j = run_cli("fit llama-2-7b --type q8_0 --ctx 4096 --memory 6GiB --json");
  REQUIRE(j.exit_code == 0);
  const auto doc = nlohmann::json::parse(j.out);
  CHECK(doc["schema"] == "vkq.fit/1");
  const auto& t = doc["targets"][0];
  CHECK(t["fits"] == false);
  CHECK(t["components"]["kv_cache"] == 2ull << 30);
  CHECK(t["max_ctx"].get<uint32_t>() < 4096);
  CHECK(t["budget_source"] == "--memory");
}

TEST_CASE("vkq fit MODEL.gguf on the Vulkan device", "[cli][fit][gpu]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const std::string m = vkq::test::models_dir(), out = dir.path("s.gguf");
  REQUIRE(run_cli("convert '" + m + "/stories260K.bin' --tokenizer '" + m + "/tok512.bin' -o '" + out + "'").exit_code == 0);
  const auto r = run_cli("fit '" + out + "' --device 0 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto t = nlohmann::json::parse(r.out)["targets"][0];
  CHECK(t["target"] == vkq::test::instance().devices()[0].caps.name);
  CHECK(t["fits"] == true);
  CHECK(t["max_ctx"] == 512);
  // Planned as another type: the same shapes at Q8_0 (ffn_down rows of 172
  // cannot be Q8_0: refused with the tensor named).
  const auto q = run_cli("fit '" + out + "' --type q8_0 --memory 1GiB");
  CHECK(q.exit_code == 2);
  CHECK_THAT(q.err, ContainsSubstring("172"));
}

TEST_CASE("vkq fit: bad input is exit 2", "[cli][fit]") {
  struct Case {
    std::string args, what;
  };
  for (const auto& c : std::vector<Case>{
           {"--config no-such-model --type q4_0 --memory 8G", "llama-2-7b"},  // lists the known configs
           {"--config llama-2-7b --memory 8G", "needs --type"},
           {"--config llama-2-7b --type q5_k --memory 8G", "--type 'q5_k'"},
           {"--config llama-2-7b --type q4_0 --ctx 0 --memory 8G", "must be positive"},
           {"--config llama-2-7b --type q4_0 --ctx -5 --memory 8G", "must be positive"},
           {"--config llama-2-7b --type q4_0 --ctx 100000 --memory 8G", "beyond the model's trained context"},
           {"--config llama-2-7b --type q4_0 --memory lots", "--memory 'lots'"},
           {"--config llama-2-7b --type q4_0 --memory 8G --device 0", "exclude each other"},
           {"", "give a MODEL.gguf"},
       }) {
    INFO(c.args);
    const auto r = run_cli("fit " + c.args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, ContainsSubstring(c.what));
  }
  // --force plans past the trained context, with a warning.
  const auto f = run_cli("fit --config llama-2-7b --type q4_0 --ctx 8192 --memory 80G --force");
  CHECK(f.exit_code == 0);
  CHECK_THAT(f.err, ContainsSubstring("warning: context 8192 is beyond"));
}
