// The scorecard runner in process on stories260K, on the CPU reference
// device: under the demo's gates, Q8_0 and Q4_0 (ggml's round-to-nearest)
// pass and weights with added noise fail; the reference cache serves a
// second run; a run stopped after K units resumes from its journal to the
// same rows; recipes need the quantizer; the top-32 KLD against the full one.
#include <stdexcept>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <fmt/format.h>

#include "cpu_forward.hpp"
#include "error.hpp"
#include "eval/scorecard_fixtures.hpp"
#include "model_paths.hpp"
#include "quant_bridge.hpp"
#include "scorecard_config.hpp"
#include "scorecard_runner.hpp"
#include "token_metrics.hpp"
#include "topk_fidelity.hpp"
#include "support/gguf_builder.hpp"
#include "support/llama_models.hpp"

using namespace vkq;
using Catch::Matchers::ContainsSubstring;

namespace {

// A config over `set` on the CPU with the variants (name, file) given, the
// first the reference, and the demo's gates.
eval::ScorecardConfig config(const std::filesystem::path& set, const std::vector<std::pair<std::string, std::string>>& v) {
  std::string t = fmt::format("eval_sets = [\"{}\"]\ndevices = [\"cpu\"]\n", set.string());
  for (size_t i = 0; i < v.size(); ++i)
    t += fmt::format("[[variant]]\nname = \"{}\"\n{}path = \"{}\"\n", v[i].first, i == 0 ? "reference = true\n" : "",
                     v[i].second);
  auto cfg = eval::parse_config(t, "test.toml", "");
  // The demo's gates, read from the file (models: paths need the models folder).
  cfg.gates = eval::load_config(eval::demo_config_path()).gates;
  return cfg;
}

size_t failed_rows(const eval::Scorecard& s, const std::string& variant) {
  size_t n = 0;
  for (const auto& r : s.rows) n += r.variant == variant && r.verdict == "fail";
  return n;
}

}  // namespace

TEST_CASE("scorecard runner: Q8_0 and Q4_0 pass the demo's gates, noisy weights fail them", "[eval][runner]") {
  VKQ_REQUIRE_STORIES260K();
  test::TempDir dir;
  const auto cfg = config(test::bundled_set_dir(),
                          {{"f32", test::write_stories(dir.path("f32.gguf"), GgmlType::F32).string()},
                           {"q8_0", test::write_stories(dir.path("q8_0.gguf"), GgmlType::Q8_0).string()},
                           {"q4_0", test::write_stories(dir.path("q4_0.gguf"), GgmlType::Q4_0).string()},
                           {"noisy", test::write_noisy_stories(dir.path("noisy.gguf"), 0.2, 7).string()}});
  eval::RunnerOptions o;
  o.out_dir = dir.path("out").string();
  o.cache_dir = dir.path("cache").string();
  const auto sc = eval::run_scorecard(cfg, o);
  CHECK(sc.units.size() == 4);
  CHECK(failed_rows(sc, "q8_0") == 0);
  CHECK(failed_rows(sc, "q4_0") == 0);
  CHECK(failed_rows(sc, "noisy") >= 8);  // fidelity and fluency on every slice at least
  CHECK(sc.verdict == "fail");
  for (const auto& r : sc.rows) {
    if (r.slice != "all" || r.device != "cpu") continue;
    if (r.variant == "f32" && r.metric == eval::Metric::kld) CHECK(r.value == 0);
    if (r.variant == "f32" && r.metric == eval::Metric::top1) CHECK(r.value == 1);
    // Q8_0 is close to F32; Q4_0 further; the noise further still.
    if (r.variant == "q8_0" && r.metric == eval::Metric::kld) CHECK(r.value < 0.01);
    if (r.variant == "q4_0" && r.metric == eval::Metric::kld) CHECK((r.value > 0.01 && r.value < 0.25));
    if (r.variant == "noisy" && r.metric == eval::Metric::kld) CHECK(r.value > 0.5);
  }
  for (const auto& f : sc.fit) {
    CHECK(f.timing.prefill_tokens > 0);
    CHECK(f.timing.decode_tokens > 0);
    CHECK_FALSE(f.memory.known);  // the CPU reference reports no device memory
  }
}

TEST_CASE("scorecard runner: the reference cache and the journal", "[eval][runner]") {
  VKQ_REQUIRE_STORIES260K();
  test::TempDir dir;
  const auto set = test::write_bundled_subset(dir.path("set"), 1);
  const auto cfg = config(set, {{"f32", test::write_stories(dir.path("f32.gguf"), GgmlType::F32).string()},
                                {"q8_0", test::write_stories(dir.path("q8_0.gguf"), GgmlType::Q8_0).string()},
                                {"q4_0", test::write_stories(dir.path("q4_0.gguf"), GgmlType::Q4_0).string()}});
  eval::RunnerOptions o;
  o.out_dir = dir.path("a").string();
  o.cache_dir = dir.path("cache").string();
  const auto first = eval::run_scorecard(cfg, o);
  REQUIRE(first.units.size() == 3);
  CHECK_FALSE(first.units[0].from_reference_cache);
  CHECK(test::files_in(dir.path("cache/reference")).size() == 1);

  SECTION("a second run takes the reference from the cache, with the same results") {
    o.out_dir = dir.path("b").string();
    const auto second = eval::run_scorecard(cfg, o);
    CHECK(second.units[0].from_reference_cache);
    CHECK(eval::to_json(second)["rows"] == eval::to_json(first)["rows"]);
  }
  SECTION("a run stopped after 2 units resumes from its journal to the same rows") {
    o.out_dir = dir.path("c").string();
    o.unit_done = [](size_t n) {
      if (n == 2) throw std::runtime_error("stopped");
    };
    CHECK_THROWS_WITH(eval::run_scorecard(cfg, o), "stopped");
    size_t ran_after = 0;
    o.unit_done = [&](size_t) { ++ran_after; };
    o.resume = true;
    const auto resumed = eval::run_scorecard(cfg, o);
    CHECK(ran_after == 1);
    CHECK(resumed.run["units_reused"] == 2);
    CHECK(eval::to_json(resumed)["rows"] == eval::to_json(first)["rows"]);
  }
  SECTION("a variant with another vocabulary is refused") {
    auto parts = test::GgufParts::read(test::stories260k_gguf());
    auto tokens = parts.metadata.find("tokenizer.ggml.tokens");
    REQUIRE(tokens);
    auto v = *tokens->as_strings();
    v[300] = "zzz";
    parts.metadata.set("tokenizer.ggml.tokens", GgufValue::string_array(v));
    const auto other = dir.write("other.gguf", parts.write());
    auto cfg2 = config(set, {{"f32", dir.path("f32.gguf").string()}, {"other", other.string()}});
    CHECK_THROWS_WITH(eval::run_scorecard(cfg2, o), ContainsSubstring("another vocabulary"));
  }
}

TEST_CASE("scorecard runner: recipes go through the quantizer", "[eval][runner]") {
  VKQ_REQUIRE_STORIES260K();
  test::TempDir dir;
  const auto set = test::write_bundled_subset(dir.path("set"), 1);
  const std::string toml = fmt::format(
      "eval_sets = [\"{}\"]\ndevices = [\"cpu\"]\n[[variant]]\nname = \"f32\"\nreference = true\npath = \"{}\"\n"
      "[[variant]]\nname = \"rtn-q8_0\"\nfrom = \"f32\"\nmethod = \"rtn\"\ntype = \"q8_0\"\n",
      set.string(), test::write_stories(dir.path("f32.gguf"), GgmlType::F32).string());
  const auto cfg = eval::parse_config(toml, "r.toml", "");
  eval::RunnerOptions o;
  o.out_dir = dir.path("out").string();
  o.cache_dir = dir.path("cache").string();
  if (!eval::quantizer_available()) {
    CHECK_THROWS_WITH(eval::run_scorecard(cfg, o), ContainsSubstring("no quantizer"));
    SKIP("this build has no quantizer (libvkq_quant has no sources yet): recipes are refused, as checked");
  }
  const auto sc = eval::run_scorecard(cfg, o);
  CHECK(sc.units.size() == 2);
  CHECK(test::files_in(dir.path("cache/models")).size() == 1);
  const auto again = eval::run_scorecard(cfg, o);  // the quantized file comes from the cache
  CHECK(again.run["variant_files"][1]["cached"] == true);
}

TEST_CASE("top-32 KLD on stories260K: a lower bound within a few percent of the full KLD", "[eval][topk]") {
  VKQ_REQUIRE_STORIES260K();
  const auto f32 = test::load_stories260k(GgmlType::F32), q4 = test::load_stories260k(GgmlType::Q4_0);
  const auto tokens = test::story_tokens(*f32.model, 200);
  CpuForward ref(*f32.model, 200), var(*q4.model, 200);
  const auto lr = ref.prefill(tokens, 0, true), lv = var.prefill(tokens, 0, true);
  const size_t V = ref.n_vocab();
  double full = 0, topk = 0;
  size_t agree = 0;
  for (size_t p = 0; p < tokens.size(); ++p) {
    const std::span<const float> a(lr.data() + p * V, V), b(lv.data() + p * V, V);
    const auto f = eval::fidelity(a, b);
    const auto t = eval::fidelity_topk(eval::top_k(a), b);
    CHECK(t.kld <= f.kld + 1e-9);
    CHECK(t.same_top == f.same_top);
    CHECK(t.delta_p == Catch::Approx(f.delta_p).margin(1e-9));
    full += f.kld;
    topk += t.kld;
    agree += f.same_top;
  }
  INFO("mean KLD over 200 positions: full " << full / 200 << ", top-32 " << topk / 200);
  CHECK(full > 0.01 * 200);
  CHECK(topk >= 0.95 * full);
  CHECK(agree < 200);
}
