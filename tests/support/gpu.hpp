// Test support: one validated Vulkan instance and device per test process,
// random data, the CLI runner and the models folder.
#pragma once

#include "support/models_dir.hpp"  // models_dir(): VKQ_MODELS_DIR

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "device.hpp"
#include "instance.hpp"

namespace vkq::test {

// The instance (validation on unless VKQ_VALIDATION=0) and the device that
// VKQ_DEVICE names (default: the best one; lavapipe in CI), with
// VKQ_DEVICE_PROFILE applied.
Instance& instance();
Device& device();

// Seeded from the clock (printed once) unless VKQ_TEST_SEED is set: fresh
// data each run, reproducible on demand.
std::mt19937_64& rng();
std::vector<float> random_floats(size_t n, float lo = -1.0f, float hi = 1.0f);

// VKQ_VALIDATION=sync: synchronization validation, which does not follow
// the dispatch chains' waits on arrival counts (it reports each barrier a
// chain drops as a hazard).
bool sync_validation();

// Runs the built CLI (VKQ_CLI) with `args` (shell-quoted by the caller).
struct CliResult {
  int exit_code = -1;
  std::string out, err;
};
CliResult run_cli(const std::string& args, const std::string& env_prefix = "");

// VKQ_MODELS_DIR, default ../shared/models beside the source tree.

// Quiet NaN bit pattern used to poison outputs before a dispatch.
constexpr uint32_t kPoison = 0x7fc00bad;

}  // namespace vkq::test
