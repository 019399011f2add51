// The device-failure test hook (runtime/fault_injection.hpp) and what vkq
// does with the failures it makes: VKQ_FAULT's syntax; an injected
// out-of-memory is a DeviceError naming the device and vkAllocateMemory with
// the fit table's device side; VulkanForward adds its plan, and releases
// everything it had allocated, at every allocation it can fail at; a lost
// device fails every later submit; the fit table's suggestion follows the
// figures.
#include <string>

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "error.hpp"
#include "fault_injection.hpp"
#include "forward_plan.hpp"
#include "oom_report.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"
#include "vulkan_forward.hpp"

using Catch::Matchers::ContainsSubstring;

namespace {

// A device of its own (the shared test device keeps its counters clean).
std::unique_ptr<vkq::Device> device_with(vkq::FaultSpec faults) {
  auto o = vkq::DeviceOptions::from_env();
  o.faults = faults;
  return vkq::open_device(vkq::test::instance(), "", o);
}

vkq::FaultSpec alloc_fault(uint64_t n) { return {.alloc = n}; }
vkq::FaultSpec submit_fault(uint64_t n) { return {.submit = n}; }

void noop(const vk::raii::CommandBuffer&) {}

// What a whole VulkanForward build makes on a fresh device.
struct CleanBuild {
  uint64_t allocations = 0, submits = 0;
  vkq::ForwardPlan plan;
};
CleanBuild clean_build(const vkq::LlamaModel& model, const vkq::VulkanForwardOptions& o) {
  auto dev = device_with({});
  vkq::VulkanForward fwd(*dev, model, o);
  return {dev->faults().allocations(), dev->faults().submits(), fwd.plan()};
}

}  // namespace

TEST_CASE("VKQ_FAULT: alloc:N and submit:N, nothing else", "[fault]") {
  CHECK(vkq::FaultSpec::parse("").empty());
  const auto a = vkq::FaultSpec::parse("alloc:3");
  CHECK((a.alloc == 3 && a.submit == 0));
  const auto b = vkq::FaultSpec::parse("submit:10,alloc:2");
  CHECK((b.alloc == 2 && b.submit == 10));
  CHECK(b.to_string() == "alloc:2,submit:10");
  CHECK(vkq::FaultSpec::parse(b.to_string()).to_string() == b.to_string());
  for (const char* bad : {"alloc", "alloc:", "alloc:0", "alloc:x", "alloc:3x", "alloc:-1", "alloc: 3", "alloc:3,alloc:4",
                          "free:1", "alloc:3,", ",alloc:3", "submit:99999999999999999999999"}) {
    INFO(bad);
    CHECK_THROWS_AS(vkq::FaultSpec::parse(bad), vkq::InputError);
  }
}

TEST_CASE("fault hook: the N-th allocation fails with the device side of the fit table", "[gpu][fault]") {
  auto dev = device_with(alloc_fault(2));
  const vkq::Buffer first(*dev, 4096);
  const uint64_t held = dev->memory_stats().current;
  try {
    const vkq::Buffer second(*dev, 1 << 20);
    FAIL("the second allocation should have failed");
  } catch (const vkq::DeviceError& e) {
    const std::string what = e.what();
    CHECK_THAT(what, ContainsSubstring("device '" + dev->caps().name + "'"));
    CHECK_THAT(what, ContainsSubstring("vkAllocateMemory"));
    CHECK_THAT(what, ContainsSubstring("VKQ_FAULT=alloc:2"));
    REQUIRE(e.oom() != nullptr);
    const auto& r = *e.oom();
    CHECK(r.device == dev->caps().name);
    CHECK(r.requested >= (1u << 20));
    CHECK(r.allocated == held);
    CHECK(r.heaps.size() == dev->caps().heaps.size());
    CHECK(r.planned.empty());
    const auto table = r.table();
    REQUIRE(table.size() >= 4);
    CHECK_THAT(table[0], ContainsSubstring(dev->caps().name));
    CHECK_THAT(r.suggestion(), ContainsSubstring("another device"));
  }
  CHECK(dev->memory_stats().current == held);  // the failed one is not counted
  const vkq::Buffer third(*dev, 4096);          // running out is transient
  CHECK(dev->faults().allocations() == 3);
}

TEST_CASE("fault hook: a lost device fails this submit and every later one", "[gpu][fault]") {
  auto dev = device_with(submit_fault(2));
  dev->run_once(noop);
  for (int i = 0; i < 2; ++i) {
    try {
      dev->run_once(noop);
      FAIL("the submit should have failed");
    } catch (const vkq::DeviceError& e) {
      CHECK_THAT(std::string(e.what()), ContainsSubstring("device '" + dev->caps().name + "'"));
      CHECK_THAT(std::string(e.what()), ContainsSubstring("vkQueueSubmit"));
      CHECK_THAT(std::string(e.what()), ContainsSubstring("ErrorDeviceLost"));
      CHECK_THAT(e.hint(), ContainsSubstring("lost the device"));
      CHECK(e.oom() == nullptr);
    }
  }
  // Command streams submit through the same call.
  vkq::Buffer a(*dev, 256), b(*dev, 256);
  vkq::CommandStream cs(*dev);
  cs.copy(a, b, 256);
  CHECK_THROWS_AS(cs.submit_and_wait(), vkq::DeviceError);
  CHECK(dev->faults().submits() == 4);
}

TEST_CASE("fault hook: VulkanForward fails cleanly at every allocation, with its plan in the fit table",
          "[gpu][fault][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const auto loaded = vkq::test::load_stories260k(vkq::GgmlType::Q4_0);
  vkq::VulkanForwardOptions o;
  o.n_ctx = 64;
  const auto clean = clean_build(*loaded.model, o);
  const uint64_t total = clean.allocations;
  const auto& plan = clean.plan;
  REQUIRE(total > 10);
  for (uint64_t n = 1; n <= total; ++n) {
    INFO("allocation " << n << " of " << total);
    auto dev = device_with(alloc_fault(n));
    try {
      vkq::VulkanForward fwd(*dev, *loaded.model, o);
      FAIL("the build should have failed");
    } catch (const vkq::DeviceError& e) {
      REQUIRE(e.oom() != nullptr);
      const auto& r = *e.oom();
      CHECK(r.planned_peak == plan.peak_bytes());
      uint64_t sum = 0;
      for (const auto& [component, bytes] : r.planned) {
        const uint64_t want = component == "staging" ? plan.staging_bytes : plan.component_bytes(component);
        CHECK(bytes == want);
        sum += bytes;
      }
      CHECK(sum == plan.peak_bytes());
      CHECK_THAT(r.plan, ContainsSubstring("n_ctx 64"));
    }
    // Everything allocated before the failure was released.
    CHECK(dev->memory_stats().current == 0);
  }
}

TEST_CASE("fault hook: a device lost in a decode step is a DeviceError; the session can still be destroyed",
          "[gpu][fault][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const auto loaded = vkq::test::load_stories260k(vkq::GgmlType::F32);
  vkq::VulkanForwardOptions o;
  o.n_ctx = 16;
  auto dev = device_with(submit_fault(clean_build(*loaded.model, o).submits + 3));  // the third decode step
  auto fwd = std::make_unique<vkq::VulkanForward>(*dev, *loaded.model, o);
  CHECK(fwd->decode(1, 0).size() == fwd->n_vocab());
  CHECK(fwd->decode(403, 1).size() == fwd->n_vocab());
  CHECK_THROWS_AS(fwd->decode(407, 2), vkq::DeviceError);
  CHECK_THROWS_AS(fwd->decode(407, 2), vkq::DeviceError);
  fwd.reset();
  CHECK(dev->memory_stats().current == 0);
}

TEST_CASE("fit table: the suggestion follows what does not fit", "[fault]") {
  vkq::OomReport r;
  r.device = "test device";
  r.heaps = {{.size = 8ull << 30, .device_local = true}};
  r.max_allocation = 4ull << 30;
  r.requested = 1ull << 30;
  CHECK_THAT(r.suggestion(), ContainsSubstring("another device"));  // no plan

  r.plan = "llama forward pass: n_ctx 4096, batch 512, kv f16";
  r.planned = {{"weights", 12ull << 30}, {"kv_cache", 2ull << 30}};
  r.planned_peak = 14ull << 30;
  CHECK_THAT(r.suggestion(), ContainsSubstring("the weights alone need"));
  CHECK_THAT(r.suggestion(), ContainsSubstring("smaller weight type"));

  r.planned = {{"weights", 4ull << 30}, {"kv_cache", 6ull << 30}};
  r.planned_peak = 10ull << 30;
  CHECK_THAT(r.suggestion(), ContainsSubstring("smaller context"));
  CHECK_THAT(r.suggestion(), ContainsSubstring("6.00 GiB"));  // the KV cache's share

  r.planned = {{"weights", 4ull << 30}, {"kv_cache", 1ull << 30}};
  r.planned_peak = 5ull << 30;
  CHECK_THAT(r.suggestion(), ContainsSubstring("other programs"));

  r.heaps[0].budget = 3ull << 30;  // the budget, not the heap size, is what vkq can have
  CHECK(r.heap_capacity() == 3ull << 30);
  CHECK_THAT(r.suggestion(), ContainsSubstring("the weights alone need"));

  r.requested = 5ull << 30;  // above maxMemoryAllocationSize
  CHECK_THAT(r.suggestion(), ContainsSubstring("maxMemoryAllocationSize"));

  const auto table = r.table();
  CHECK_THAT(table[0], ContainsSubstring("test device"));
  CHECK_THAT(table[1], ContainsSubstring("n_ctx 4096"));
}
