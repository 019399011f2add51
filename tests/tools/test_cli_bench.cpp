// `vkq bench matmul` checks every kernel it times against the CPU reference;
// here that check must pass for each weight type at n = 1, 7 and 64, under the
// device profile the test process runs with (tests/CMakeLists.txt re-runs
// "[kernel]" tests under no-subgroup-arith, no-int-dot, no-fp16,
// no-int8-storage, shared-mem=16384 and the presets).
#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <nlohmann/json.hpp>

#include "support/gpu.hpp"

TEST_CASE("vkq bench matmul reports max_rel_err within tolerance", "[gpu][kernel][cli]") {
  const std::string type = GENERATE("f16", "q8_0", "q4_0", "q4_1");
  const int n = GENERATE(1, 7, 64);
  // Small shapes keep lavapipe fast; --copy-mib keeps the bandwidth reference short.
  const auto r = vkq::test::run_cli("bench matmul --type " + type + " --m 33 --k 256 --n " + std::to_string(n) +
                                    " --runs 20 --copy-mib 8 --json");
  INFO(type << " n=" << n << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("validation") == std::string::npos);  // the child runs with VKQ_VALIDATION too
  const auto j = nlohmann::json::parse(r.out)["matmul"];
  INFO(j.dump());
  CHECK(j["passed"] == true);
  CHECK(j["max_rel_err"].get<double>() <= j["tolerance"].get<double>());
  CHECK(j["median_us"].get<double>() > 0);
  CHECK(!j["variant"].get<std::string>().empty());
}

TEST_CASE("vkq bench copy reports bandwidth", "[gpu][cli]") {
  const auto r = vkq::test::run_cli("bench copy --mib 8 --runs 5 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out)["copy"];
  CHECK(j["gbps"].get<double>() > 0);
  CHECK(j["shader_gbps"].get<double>() > 0);
  CHECK(j["transfer_gbps"].get<double>() > 0);
}
