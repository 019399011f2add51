// Synchronization validation (VKQ_VALIDATION=sync, runtime/instance.cpp) is
// on when asked for, and reports a real hazard: two copies into one buffer
// with no barrier between them (write-after-write). The test suite runs
// under sync validation in CI (.ci/run) and must stay at zero messages;
// this test shows that zero means something. It uses an instance and a
// device of its own, so its messages are not the suite's.
#include <string>

#include <catch2/catch_test_macros.hpp>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "device.hpp"
#include "error.hpp"
#include "instance.hpp"

namespace {

size_t count_containing(const std::vector<std::string>& msgs, const std::string& what) {
  size_t n = 0;
  for (const auto& m : msgs) n += m.find(what) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("sync validation: reports a write-after-write hazard, and none with the barrier", "[gpu][sync]") {
  auto o = vkq::InstanceOptions::from_env();
  o.validation = true;
  o.sync_validation = true;
  std::unique_ptr<vkq::Instance> inst;
  try {
    inst = std::make_unique<vkq::Instance>(o);
  } catch (const vkq::DeviceError& e) {
    SKIP(e.what());  // no validation layer installed
  }
  auto dev = vkq::open_device(*inst, "");
  vkq::Buffer a(*dev, 4096), b(*dev, 4096), dst(*dev, 4096);
  CHECK(inst->validation_message_count() == 0);  // creating the instance and messenger is clean

  {
    vkq::CommandStream cs(*dev);
    cs.copy(a, dst, 4096);
    cs.barrier();
    cs.copy(b, dst, 4096);
    cs.submit_and_wait();
  }
  CHECK(inst->validation_message_count() == 0);

  {
    vkq::CommandStream cs(*dev);
    cs.copy(a, dst, 4096);
    cs.copy(b, dst, 4096);  // no barrier: the second write races the first
    cs.submit_and_wait();
  }
  const auto msgs = inst->validation_messages();
  INFO(msgs.size() << " messages");
  CHECK(count_containing(msgs, "SYNC-HAZARD-WRITE-AFTER-WRITE") >= 1);
  inst->clear_validation_messages();
}
