// Catch2 main for vkq: runs the session, then fails the process if the
// Vulkan validation layer reported anything (errors or warnings), naming the
// test cases that produced the messages.
#include <cstdio>
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
  const int rc = Catch::Session().run(argc, argv);
  if (!g_offenders.empty()) {
    std::fprintf(stderr, "FAILED: Vulkan validation messages in:\n");
    for (const auto& o : g_offenders) std::fprintf(stderr, "  %s\n", o.c_str());
    return rc ? rc : 1;
  }
  return rc;
}
