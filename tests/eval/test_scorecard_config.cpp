// The scorecard's TOML config: the bundled demo parses; mistakes are refused
// naming the file and line.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "model_paths.hpp"
#include "scorecard_config.hpp"
#include "support/llama_models.hpp"

using namespace vkq;
using Catch::Matchers::ContainsSubstring;

namespace {

std::string error_of(const std::string& toml) {
  try {
    eval::parse_config(toml, "t.toml", "/base");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const char* kHead = "eval_sets = [\"sets/x\"]\n[[variant]]\nname = \"ref\"\nreference = true\npath = \"ref.gguf\"\n";

}  // namespace

TEST_CASE("scorecard config: the bundled demo", "[eval][config]") {
  VKQ_REQUIRE_STORIES260K();
  const auto cfg = eval::load_config(eval::demo_config_path());
  CHECK(cfg.variants.size() == 7);
  CHECK(cfg.reference().name == "f32");
  CHECK(cfg.reference().source == eval::VariantSpec::Source::checkpoint);
  CHECK(cfg.devices == std::vector<std::string>{"all", "cpu"});
  size_t q4 = 0, q8 = 0;
  for (const auto& v : cfg.variants) {
    if (v.source != eval::VariantSpec::Source::recipe) continue;
    q4 += v.type == GgmlType::Q4_0;
    q8 += v.type == GgmlType::Q8_0;
    if (v.method != quant::Method::rtn) CHECK_THAT(v.calib, ContainsSubstring("demo-calib.txt"));
  }
  CHECK(q4 == 3);
  CHECK(q8 == 3);
  CHECK(cfg.gates.size() >= 4);
  CHECK_THAT(cfg.eval_sets.at(0), ContainsSubstring("sets/stories-v1"));
}

TEST_CASE("scorecard config: paths, devices, gates, bootstrap", "[eval][config]") {
  const auto cfg = eval::parse_config("devices = [\"cpu\", 0]\n" + std::string(kHead) +
                                          "[bootstrap]\nresamples = 200\nseed = 9\n"
                                          "[[variant]]\nname = \"q4\"\nfrom = \"ref\"\nmethod = \"rtn\"\ntype = \"q4_0\"\n"
                                          "[[gate]]\ndimension = \"fidelity\"\nmetric = \"kld\"\nslice = \"dialogue\"\n"
                                          "max_regression_rel = 0.1\nvariants = [\"q4\"]\n",
                                      "t.toml", "/base");
  CHECK(cfg.eval_sets == std::vector<std::string>{"/base/sets/x"});
  CHECK(cfg.variants[0].path == "/base/ref.gguf");
  CHECK(cfg.devices == std::vector<std::string>{"cpu", "0"});
  CHECK(cfg.bootstrap.resamples == 200);
  CHECK(cfg.bootstrap.seed == 9);
  REQUIRE(cfg.gates.size() == 1);
  CHECK(cfg.gates[0].relative);
  CHECK(cfg.gates[0].slice == "dialogue");
  CHECK(*cfg.gates[0].metric == eval::Metric::kld);
  CHECK(cfg.gates[0].where == "t.toml:15");  // the [[gate]] line
  const auto back = eval::gates_from_json(eval::gates_to_json(cfg.gates), "x");
  CHECK(eval::gates_to_json(back) == eval::gates_to_json(cfg.gates));
}

TEST_CASE("scorecard config: mistakes name the file and line", "[eval][config]") {
  CHECK_THAT(error_of("eval_sets = [\n"), ContainsSubstring("t.toml:"));
  CHECK_THAT(error_of("eval_sets = [\n"), ContainsSubstring("not valid TOML"));
  CHECK_THAT(error_of(std::string(kHead) + "colour = 1\n"), ContainsSubstring("t.toml:6: unknown key \"colour\""));
  CHECK_THAT(error_of(std::string(kHead) + "[[variant]]\nname = \"b\"\nreference = true\npath = \"b.gguf\"\n"),
             ContainsSubstring("2 variants say reference = true"));
  CHECK_THAT(error_of(std::string(kHead) + "[[variant]]\nname = \"q\"\nfrom = \"nope\"\nmethod = \"rtn\"\ntype = \"q4_0\"\n"),
             ContainsSubstring("names no variant"));
  CHECK_THAT(error_of(std::string(kHead) + "[[variant]]\nname = \"q\"\nfrom = \"ref\"\nmethod = \"gptq\"\ntype = \"q4_0\"\n"),
             ContainsSubstring("needs \"calib\""));
  CHECK_THAT(error_of(std::string(kHead) + "[[variant]]\nname = \"q\"\nfrom = \"ref\"\nmethod = \"rtn\"\ntype = \"q5_k\"\n"),
             ContainsSubstring("expected q4_0, q4_1 or q8_0"));
  CHECK_THAT(error_of(std::string(kHead) + "[[variant]]\nname = \"q\"\npath = \"a\"\ncheckpoint = \"b\"\n"),
             ContainsSubstring("exactly one of"));
  CHECK_THAT(error_of(std::string(kHead) + "[[gate]]\ndimension = \"x\"\nmax_regression = 1\nmax_regression_rel = 1\n"),
             ContainsSubstring("t.toml:6: a gate needs exactly one of"));
  CHECK_THAT(error_of(std::string(kHead) + "[[gate]]\ndimension = \"x\"\nslice = \"all\"\nmax_regression = 1\n"),
             ContainsSubstring("never gates"));
  CHECK_THAT(error_of(std::string(kHead) + "[[gate]]\ndimension = \"x\"\nmetric = \"bleu\"\nmax_regression = 1\n"),
             ContainsSubstring("unknown metric \"bleu\""));
  CHECK_THAT(error_of(std::string(kHead) + "[bootstrap]\nresamples = 3\n"), ContainsSubstring("expected 10 .. 1000000"));
  CHECK_THAT(error_of("[[variant]]\nname = \"r\"\nreference = true\npath = \"x\"\n"), ContainsSubstring("missing \"eval_sets\""));
  CHECK_THAT(error_of(std::string(kHead) + "[[variant]]\nname = \"m\"\ncheckpoint = \"models:none.bin\"\ntokenizer = \"t\"\n"),
             ContainsSubstring("none of the models folders"));
}
