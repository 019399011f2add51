// Device failure through the built CLI (VKQ_FAULT, runtime/fault_injection.hpp):
// `vkq run` and `vkq bench copy|matmul|model` exit 3 naming the device and
// the failing Vulkan call; an out-of-memory prints the fit table (with the
// forward plan where the command builds one) and a suggestion; a device lost
// mid-generation stops the run with exit 3; --json prints no partial
// document; the validation layer stays silent on every error path; a bad
// VKQ_FAULT is exit 2. `vkq scorecard` exits 3 the same way and leaves the
// previous reports as they were.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "eval/scorecard_fixtures.hpp"
#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::test::run_cli;

namespace {

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::string fault(const std::string& spec) { return "VKQ_FAULT=" + spec + " "; }

// The checks every device failure passes.
void check_device_failure(const vkq::test::CliResult& r, const std::string& call) {
  INFO(r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());  // --json: no partial document
  const std::string name = vkq::test::device().caps().name;
  CHECK_THAT(r.err, ContainsSubstring("vkq: error: device '" + name + "'"));
  CHECK_THAT(r.err, ContainsSubstring(call));
  CHECK_THAT(r.err, ContainsSubstring("hint: "));
  CHECK_THAT(r.err, !ContainsSubstring("validation"));
}

void check_out_of_memory(const vkq::test::CliResult& r, bool with_plan) {
  check_device_failure(r, "vkAllocateMemory");
  INFO(r.err);
  CHECK_THAT(r.err, ContainsSubstring("ErrorOutOfDeviceMemory"));
  CHECK_THAT(r.err, ContainsSubstring("memory fit on '" + vkq::test::device().caps().name + "'"));
  CHECK_THAT(r.err, ContainsSubstring("heap 0"));
  CHECK_THAT(r.err, ContainsSubstring("vkq had allocated"));
  CHECK_THAT(r.err, ContainsSubstring("another device"));
  if (with_plan) {
    CHECK_THAT(r.err, ContainsSubstring("planned: llama forward pass"));
    CHECK_THAT(r.err, ContainsSubstring("weights"));
    CHECK_THAT(r.err, ContainsSubstring("kv_cache"));
    CHECK_THAT(r.err, ContainsSubstring("smaller context"));
  }
}

}  // namespace

TEST_CASE("vkq run: out of device memory and a lost device are exit 3 with the device, the call and the fit table",
          "[cli][fault]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto model = q(dir.write("stories260K.gguf", vkq::test::stories260k_gguf(vkq::GgmlType::F32)));
  const std::string args = "run -m " + model + " -p 'Once upon a time' -n 24 --temp 0 --json";
  for (const char* n : {"1", "5", "20"}) {
    INFO("alloc:" << n);
    check_out_of_memory(run_cli(args, fault(std::string("alloc:") + n)), true);
  }
  for (const char* n : {"1", "2"}) {
    INFO("submit:" << n);
    const auto r = run_cli(args, fault(std::string("submit:") + n));
    check_device_failure(r, "vkQueueSubmit");
    CHECK_THAT(r.err, ContainsSubstring("ErrorDeviceLost"));
    CHECK_THAT(r.err, ContainsSubstring("lost the device"));
  }

  // Lost in the middle of generation: the text streamed so far, then exit 3.
  const auto ok = run_cli("run -m " + model + " -p 'Once upon a time' -n 24 --temp 0");
  REQUIRE(ok.exit_code == 0);
  const auto lost = run_cli("run -m " + model + " -p 'Once upon a time' -n 24 --temp 0", fault("submit:12"));
  INFO(lost.err);
  CHECK(lost.exit_code == 3);
  CHECK_THAT(lost.err, ContainsSubstring("vkQueueSubmit"));
  CHECK(lost.out.size() > std::string("Once upon a time").size());  // some tokens came out first
  CHECK(lost.out.size() < ok.out.size());
  CHECK(ok.out.rfind(lost.out, 0) == 0);  // a prefix of the full text
  CHECK_THAT(lost.err, !ContainsSubstring("tokens/s"));  // no timing line for a run that failed

  const auto bad = run_cli(args, fault("alloc:zero"));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, ContainsSubstring("VKQ_FAULT"));
}

TEST_CASE("vkq bench copy|matmul|model: device failures are exit 3 with the device and the call", "[cli][fault]") {
  const std::string copy = "bench copy --mib 4 --runs 2 --json";
  check_out_of_memory(run_cli(copy, fault("alloc:1")), false);
  check_device_failure(run_cli(copy, fault("submit:1")), "vkQueueSubmit");

  const std::string matmul = "bench matmul --type q4_0 --m 64 --k 64 --n 1 --runs 20 --copy-mib 4 --json";
  check_out_of_memory(run_cli(matmul, fault("alloc:3")), false);
  check_device_failure(run_cli(matmul, fault("submit:4")), "vkQueueSubmit");

  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  const auto model = q(dir.write("stories260K.gguf", vkq::test::stories260k_gguf(vkq::GgmlType::F32)));
  const std::string bench = "bench model " + model + " --prompt 8 --gen 8 --reps 1 --json";
  // Allocations 1 and 2 are the bandwidth reference's copy buffers, kept
  // small by the profile (the copy is sized by maxMemoryAllocationSize).
  const std::string small = "VKQ_DEVICE_PROFILE=max-alloc=16777216 ";
  check_out_of_memory(run_cli(bench, small + fault("alloc:3")), true);
  check_out_of_memory(run_cli(bench, small + fault("alloc:30")), true);
  check_device_failure(run_cli(bench, small + fault("submit:1")), "vkQueueSubmit");
  check_device_failure(run_cli(bench, small + fault("submit:30")), "vkQueueSubmit");
}

// A device failure in the middle of a scorecard: exit 3 naming the device
// and the call (the fit table for memory), and the previous reports stay
// as they were: no report is written for a run that failed.
TEST_CASE("vkq scorecard: device failures are exit 3 and leave the previous reports intact", "[cli][fault][scorecard]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  vkq::test::write_bundled_subset(dir.path("set"), 1);
  vkq::test::write_stories(dir.path("q8_0.gguf"), vkq::GgmlType::Q8_0);
  const auto cfg = dir.path("fault.toml");
  std::ofstream(cfg) << "eval_sets = [\"set\"]\ndevices = [\"all\"]\n[bootstrap]\nresamples = 100\n"
                        "[[variant]]\nname = \"f32\"\nreference = true\n"
                        "checkpoint = \"models:stories260K.bin\"\ntokenizer = \"models:tok512.bin\"\n"
                        "[[variant]]\nname = \"q8_0\"\npath = \"q8_0.gguf\"\n";
  const auto out = dir.path("out");
  const std::string args = "scorecard " + q(cfg) + " -o " + q(out);
  // Each run gets a cache of its own: a reference taken from the cache would
  // make fewer device calls.
  auto cache = [&](const std::string& n) { return "VKQ_CACHE_DIR=" + q(dir.path(n)) + " "; };
  const auto ok = run_cli(args, cache("c0"));
  REQUIRE(ok.exit_code == 0);
  const auto before = vkq::test::read_file(out / "scorecard.json");

  for (const char* n : {"1", "6"}) {
    INFO("alloc:" << n);
    const auto r = run_cli(args + " --json", cache(std::string("a") + n) + fault(std::string("alloc:") + n));
    check_out_of_memory(r, false);
    CHECK(vkq::test::read_file(out / "scorecard.json") == before);
  }
  for (const char* n : {"1", "5"}) {
    INFO("submit:" << n);
    const auto r = run_cli(args + " --json", cache(std::string("s") + n) + fault(std::string("submit:") + n));
    check_device_failure(r, "vkQueueSubmit");
    CHECK_THAT(r.err, ContainsSubstring("ErrorDeviceLost"));
    CHECK(vkq::test::read_file(out / "scorecard.json") == before);
  }
  for (const auto& e : std::filesystem::directory_iterator(out))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

// Calibration on a Vulkan device: a failure there is exit 3 naming the
// device and the call, and no output file (written under a temporary name,
// renamed only at the end).
TEST_CASE("vkq quantize --device D: device failures during calibration are exit 3 and leave no file",
          "[cli][fault][quantize]") {
  VKQ_REQUIRE_STORIES260K();
  vkq::test::TempDir dir;
  vkq::test::write_stories(dir.path("f32.gguf"), vkq::GgmlType::F32);
  const std::string calib = std::string(VKQ_SOURCE_DIR) + "/quant/data/calibration.txt";
  const std::string args = "quantize " + q(dir.path("f32.gguf")) + " " + q(dir.path("out.gguf")) +
                           " --type q4_0 --method gptq --samples 4 --seq-len 64 --calib " + q(calib) + " --device " +
                           q(vkq::test::device().caps().name);
  REQUIRE(run_cli(args).exit_code == 0);  // it runs on the device without faults
  std::filesystem::remove(dir.path("out.gguf"));
  for (const char* n : {"1", "7"}) {
    INFO("submit:" << n);
    check_device_failure(run_cli(args, fault(std::string("submit:") + n)), "vkQueueSubmit");
  }
  for (const char* n : {"1", "5"}) {
    INFO("alloc:" << n);
    check_device_failure(run_cli(args, fault(std::string("alloc:") + n)), "vkAllocateMemory");
  }
  CHECK(dir.list() == std::vector<std::string>{"f32.gguf"});
}
