// The scorecard runner in process on stories260K (CPU reference device):
// quantized variants stay within the demo's gates, a deliberately damaged
// variant (noise on every matrix) trips its gates, the reference cache
// serves a second run, and the journal lets a run resume.
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <fmt/format.h>

#include "eval/scorecard_fixtures.hpp"
#include "scorecard_config.hpp"
#include "scorecard_runner.hpp"
#include "support/gguf_builder.hpp"
#include "support/llama_models.hpp"

using namespace vkq;

namespace {

std::string variants_toml(const std::filesystem::path& dir, const std::vector<std::pair<std::string, std::string>>& v) {
  std::string t;
  for (size_t i = 0; i < v.size(); ++i)
    t += fmt::format("[[variant]]\nname = \"{}\"\n{}path = \"{}\"\n\n", v[i].first, i == 0 ? "reference = true\n" : "",
                     (dir / v[i].second).string());
  return t;
}

}  // namespace

TEST_CASE("scorecard runner: calibration dump", "[.calib]") {
  VKQ_REQUIRE_STORIES260K();
  test::TempDir dir;
  test::write_stories(dir.path("f32.gguf"), GgmlType::F32);
  test::write_stories(dir.path("q8_0.gguf"), GgmlType::Q8_0);
  test::write_stories(dir.path("q4_0.gguf"), GgmlType::Q4_0);
  test::write_stories(dir.path("q4_1.gguf"), GgmlType::Q4_1);
  for (double s : {0.05, 0.1, 0.2}) test::write_noisy_stories(dir.path(fmt::format("noise{}.gguf", s)), s, 7);
  const std::string toml = fmt::format("eval_sets = [\"{}\"]\ndevices = [\"cpu\"]\n", test::bundled_set_dir().string()) +
                           variants_toml(dir.dir(), {{"f32", "f32.gguf"}, {"q8_0", "q8_0.gguf"}, {"q4_0", "q4_0.gguf"},
                                                     {"q4_1", "q4_1.gguf"}, {"n05", "noise0.05.gguf"},
                                                     {"n10", "noise0.1.gguf"}, {"n20", "noise0.2.gguf"}});
  const auto cfg = eval::parse_config(toml, "calib.toml", dir.dir().string());
  eval::RunnerOptions o;
  o.out_dir = dir.path("out").string();
  o.cache_dir = dir.path("cache").string();
  const auto sc = eval::run_scorecard(cfg, o);
  for (const auto& r : sc.rows)
    if (r.variant != "f32")
      std::printf("%-5s %-17s %-10s %-9s %9.4f ref %9.4f d %+8.4f [%+8.4f %+8.4f]\n", r.variant.c_str(), r.slice.c_str(),
                  r.dimension.c_str(), eval::metric_name(r.metric), r.value, r.reference, r.delta, r.delta_ci.lo,
                  r.delta_ci.hi);
}
