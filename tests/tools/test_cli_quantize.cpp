// vkq quantize through the built CLI: the files it writes run with `vkq run`
// on the CPU reference and on the Vulkan device, load with the GGUF reader,
// carry the provenance keys, and are byte-identical for the same inputs;
// --report; bad input is exit 2 and leaves no file.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <nlohmann/json.hpp>

#include "gguf_reader.hpp"
#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"

using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;
using vkq::test::run_cli;

namespace {

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
const std::string kCalib = q(std::string(VKQ_SOURCE_DIR) + "/quant/data/calibration.txt");
const std::string kSmall = " --samples 4 --seq-len 64";

std::filesystem::path f32_model(const vkq::test::TempDir& dir) {
  return dir.write("f32.gguf", vkq::test::stories260k_gguf());
}

}  // namespace

TEST_CASE("vkq quantize: GPTQ and AWQ files run on the CPU reference and load anywhere", "[cli][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto in = f32_model(dir);
  for (const std::string method : {"rtn", "gptq", "awq"}) {
    for (const std::string type : {"q4_0", "q8_0"}) {
      INFO(method << " " << type);
      const auto out = dir.path(method + "-" + type + ".gguf");
      const auto r = run_cli("quantize " + q(in) + " " + q(out) + " --type " + type + " --method " + method +
                             (method == "rtn" ? "" : " --calib " + kCalib + kSmall));
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK_THAT(r.out, StartsWith("wrote " + out.string() + ": "));
      const auto f = vkq::GgufFile::open(out.string());
      CHECK(f.metadata().get_string("vkq.quant.method") == method);
      const auto run = run_cli("run -m " + q(out) + " --device cpu -p 'Once upon a time' -n 20 --temp 0");
      INFO(run.err);
      REQUIRE(run.exit_code == 0);
      CHECK_THAT(run.out, StartsWith("Once upon a time, there was"));
      if (type == "q8_0") CHECK_THAT(run.out, StartsWith(std::string("Once upon a time") + ", there was a little girl named Lily"));
    }
  }
}

TEST_CASE("vkq quantize: the quantized file runs on the Vulkan device", "[cli][quantize][gpu]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto in = f32_model(dir);
  const auto out = dir.path("gptq.gguf");
  REQUIRE(run_cli("quantize " + q(in) + " " + q(out) + " --type q4_0 --method gptq --calib " + kCalib + kSmall).exit_code == 0);
  const auto gpu = run_cli("run -m " + q(out) + " --device 0 -p 'Once upon a time' -n 24 --temp 0");
  const auto cpu = run_cli("run -m " + q(out) + " --device cpu -p 'Once upon a time' -n 24 --temp 0");
  INFO(gpu.err);
  REQUIRE(gpu.exit_code == 0);
  REQUIRE(cpu.exit_code == 0);
  CHECK(gpu.out == cpu.out);  // greedy text agrees with the CPU reference
}

TEST_CASE("vkq quantize: byte-identical output, --report, progress kept off pipes", "[cli][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto in = f32_model(dir);
  const std::string common = " --type q4_1 --method awq --calib " + kCalib + kSmall + " --seed 3";
  REQUIRE(run_cli("quantize " + q(in) + " " + q(dir.path("a.gguf")) + common + " --threads 1").exit_code == 0);
  const auto r = run_cli("quantize " + q(in) + " " + q(dir.path("b.gguf")) + common + " --report " + q(dir.path("r.json")));
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());  // stderr is not a terminal: no progress line
  CHECK(vkq::test::read_file(dir.path("a.gguf")) == vkq::test::read_file(dir.path("b.gguf")));
  const auto bytes = vkq::test::read_file(dir.path("r.json"));
  const auto j = nlohmann::json::parse(bytes.begin(), bytes.end());
  CHECK(j["schema"] == "vkq.quantize/1");
  CHECK(j["method"] == "awq");
  CHECK(j["type"] == "Q4_1");
  CHECK(j["samples"] == 4);
  CHECK(j["seed"] == 3);
  CHECK(j["output_bytes"] == std::filesystem::file_size(dir.path("b.gguf")));
  bool saw_down = false;
  for (const auto& t : j["tensors"]) {
    CHECK(t.contains("bytes"));
    if (t["name"] == "blk.2.ffn_down.weight") {
      saw_down = true;
      CHECK(t["type"] == "F16");
      CHECK_THAT(t["note"].get<std::string>(), ContainsSubstring("rows of 172"));
    }
    if (t["type"] == "Q4_1") CHECK(t["mse"].get<double>() <= 1.5 * t["mse_rtn"].get<double>());
  }
  CHECK(saw_down);
}

TEST_CASE("vkq quantize: bad input is exit 2 with a clear message and no file", "[cli][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto in = f32_model(dir);
  const std::string empty;
  dir.write("empty.txt", {empty.begin(), empty.end()});
  REQUIRE(run_cli("quantize " + q(in) + " " + q(dir.path("q8.gguf")) + " --type q8_0").exit_code == 0);
  const auto out = q(dir.path("out.gguf"));
  for (const auto& [args, what] : std::vector<std::pair<std::string, std::string>>{
           {q(in) + " " + out + " --type q5_0", "--type 'q5_0' is not q4_0, q4_1 or q8_0"},
           {q(in) + " " + out + " --type q4_0 --method hqq", "--method 'hqq' is not rtn, gptq or awq"},
           {q(in) + " " + out + " --type q4_0 --method gptq", "--method gptq needs calibration text (--calib FILE)"},
           {q(in) + " " + out + " --type q4_0 --method awq --calib " + q(dir.path("empty.txt")), "the calibration text is empty"},
           {q(in) + " " + out + " --type q4_0 --method awq --calib " + q(dir.path("absent.txt")), "absent.txt: cannot read"},
           {q(in) + " " + out + " --type q4_0 --keep 'blk.99.*=q8_0'", "--keep blk.99.*=Q8_0: the glob matches no weight matrix"},
           {q(in) + " " + out + " --type q4_0 --keep 'token_embd.weight=q9'", "--keep 'token_embd.weight=q9': expected GLOB=TYPE"},
           {q(in) + " " + out + " --type q4_0 --method gptq --calib " + kCalib + " --device 0", "calibration runs on the CPU reference for now"},
           {q(dir.path("q8.gguf")) + " " + out + " --type q4_0", "is already Q8_0: quantize from the F32, F16 or BF16 model"},
           {q(dir.path("absent.gguf")) + " " + out + " --type q4_0", "absent.gguf"},
       }) {
    INFO(args);
    const auto r = run_cli("quantize " + args);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, ContainsSubstring(what));
  }
  std::vector<std::string> want = {"empty.txt", "f32.gguf", "q8.gguf"};
  CHECK(dir.list() == want);
}
