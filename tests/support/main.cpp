// Catch2 main for vkq: runs the session, then fails the process if the
// Vulkan validation layer reported anything (errors or warnings), naming the
// test cases that produced the messages. `--env NAME=VALUE` (any number,
// before Catch sees the arguments) sets environment variables first: ctest
// runs pass the test environment and the device profile that way, as
// catch_discover_tests cannot pass a list of variables through PROPERTIES.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <catch2/catch_session.hpp>
#include <catch2/catch_test_case_info.hpp>
#include <catch2/reporters/catch_reporter_event_listener.hpp>
#include <catch2/reporters/catch_reporter_registrars.hpp>

#include "support/gpu.hpp"

namespace {

// The GPU fixtures are created lazily; only look at them if a test did.
bool g_gpu_used = false;
size_t g_seen = 0;
std::vector<std::string> g_offenders;

class ValidationListener : public Catch::EventListenerBase {
 public:
  using Catch::EventListenerBase::EventListenerBase;
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    if (!g_gpu_used) return;
    const size_t n = vkq::test::instance().validation_message_count();
    if (n > g_seen) {
      g_offenders.push_back(stats.testInfo->name + " (" + std::to_string(n - g_seen) + " validation messages)");
      g_seen = n;
    }
  }
};
CATCH_REGISTER_LISTENER(ValidationListener)

}  // namespace

namespace vkq::test {
void note_gpu_used() { g_gpu_used = true; }
}  // namespace vkq::test

int main(int argc, char** argv) {
  std::vector<char*> args{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--env") != 0) {
      args.push_back(argv[i]);
      continue;
    }
    const char* kv = i + 1 < argc ? argv[++i] : "";
    const char* eq = std::strchr(kv, '=');
    if (!eq || eq == kv) {
      std::fprintf(stderr, "--env wants NAME=VALUE, got '%s'\n", kv);
      return 2;
    }
    setenv(std::string(kv, eq).c_str(), eq + 1, 1);
  }
  const int rc = Catch::Session().run(static_cast<int>(args.size()), args.data());
  if (!g_offenders.empty()) {
    std::fprintf(stderr, "FAILED: Vulkan validation messages in:\n");
    for (const auto& o : g_offenders) std::fprintf(stderr, "  %s\n", o.c_str());
    return rc ? rc : 1;
  }
  return rc;
}
