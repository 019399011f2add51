#include "support/gpu.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

namespace vkq::test {
namespace {

std::string env(const char* n) {
  const char* v = std::getenv(n);
  return v ? v : "";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void note_gpu_used();

Instance& instance() {
  note_gpu_used();
  static std::unique_ptr<Instance> inst = [] {
    auto o = InstanceOptions::from_env();
    if (env("VKQ_VALIDATION").empty()) o.validation = true;  // tests validate by default
    return std::make_unique<Instance>(o);
  }();
  return *inst;
}

Device& device() {
  static std::unique_ptr<Device> dev = [] { return open_device(instance(), ""); }();
  return *dev;
}

std::mt19937_64& rng() {
  static std::mt19937_64 g = [] {
    uint64_t seed = env("VKQ_TEST_SEED").empty()
                        ? static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())
                        : std::stoull(env("VKQ_TEST_SEED"));
    std::fprintf(stderr, "test data seed: VKQ_TEST_SEED=%llu\n", static_cast<unsigned long long>(seed));
    return std::mt19937_64(seed);
  }();
  return g;
}

std::vector<float> random_floats(size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng());
  return v;
}

bool sync_validation() {
  const char* v = std::getenv("VKQ_VALIDATION");
  return v && std::string(v) == "sync";
}

CliResult run_cli(const std::string& args, const std::string& env_prefix) {
  const std::string cli = env("VKQ_CLI").empty() ? std::string(VKQ_BINARY_DIR) + "/vkq" : env("VKQ_CLI");
  const auto dir = std::filesystem::temp_directory_path() /
                   fmt::format("vkq-cli-{}-{}", static_cast<long>(::getpid()), rng()());
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "out").string(), err = (dir / "err").string();
  const std::string cmd = fmt::format("{} '{}' {} >'{}' 2>'{}'", env_prefix, cli, args, out, err);
  const int st = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace vkq::test
