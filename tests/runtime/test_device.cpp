#include <algorithm>
#include <cmath>
#include <filesystem>

#include <catch2/catch_test_macros.hpp>

#include "buffer.hpp"
#include "error.hpp"
#include "command_stream.hpp"
#include "kernel.hpp"
#include "ops/elementwise.hpp"
#include "support/gpu.hpp"

using namespace vkq;

TEST_CASE("device caps are read from the driver", "[gpu]") {
  auto& dev = test::device();
  const auto& c = dev.driver_caps();
  CHECK(!c.name.empty());
  CHECK(c.device_uuid.size() == 32);
  CHECK(c.api_version >= VK_API_VERSION_1_2);
  CHECK(c.subgroup_size >= 1);
  CHECK(c.min_subgroup_size <= c.subgroup_size);
  CHECK(c.subgroup_size <= c.max_subgroup_size);
  CHECK(c.max_shared_memory >= 16384);
  CHECK(c.max_workgroup_invocations >= 128);
  CHECK(c.max_storage_buffer_range >= (1u << 27));
  CHECK(c.max_memory_allocation_size > 0);
  CHECK(!c.heaps.empty());
  // The profile only ever takes away.
  const auto& m = dev.caps();
  CHECK(m.max_shared_memory <= c.max_shared_memory);
  CHECK((!m.fp16 || c.fp16));
  CHECK((!m.subgroup_arith || c.subgroup_arith));
}

TEST_CASE("device selection by index and name; bad names list the devices", "[gpu]") {
  auto& inst = test::instance();
  const auto& devs = inst.devices();
  REQUIRE(!devs.empty());
  CHECK(inst.select("0") == 0);
  const auto& name = devs[0].caps.name;
  CHECK(inst.select(name.substr(0, 4)) < devs.size());
  try {
    inst.select("no-such-device");
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("no-such-device") != std::string::npos);
    CHECK(e.hint().find(name) != std::string::npos);
  }
}

TEST_CASE("buffers round-trip through device and host memory", "[gpu]") {
  auto& dev = test::device();
  const auto data = test::random_floats(100003);
  for (auto kind : {MemoryKind::device, MemoryKind::host, MemoryKind::upload}) {
    INFO("kind " << int(kind));
    Buffer b(dev, data.size() * 4, kind);
    b.fill(test::kPoison);
    b.upload(std::span<const float>(data));
    std::vector<float> back(data.size());
    b.download(std::span<float>(back));
    CHECK(back == data);
    // Partial ranges and bounds.
    std::vector<float> part(10);
    b.download(std::span<float>(part), 400);
    CHECK(part[0] == data[100]);
    CHECK_THROWS_AS(b.download(std::span<float>(part), b.size() - 8), InputError);
  }
  // An upload buffer the host writes is what a kernel reads: x + x.
  {
    Buffer in(dev, data.size() * 4, MemoryKind::upload), out(dev, data.size() * 4);
    out.fill(test::kPoison);
    in.upload(std::span<const float>(data));
    CommandStream cs(dev);
    ops::Add(dev).record(cs, in, in, out, uint32_t(data.size()));
    cs.submit_and_wait();
    std::vector<float> sum(data.size());
    out.download(std::span<float>(sum));
    size_t bad = 0;
    for (size_t i = 0; i < data.size(); ++i) bad += sum[i] != data[i] + data[i];
    CHECK(bad == 0);
  }
  const auto before = dev.memory_stats().current;
  { Buffer t(dev, 1 << 20); CHECK(dev.memory_stats().current >= before + (1 << 20)); }
  CHECK(dev.memory_stats().current == before);
}

TEST_CASE("command streams record many dispatches and time them", "[gpu]") {
  auto& dev = test::device();
  ops::Add add(dev);
  const uint32_t n = 4099;
  auto x = test::random_floats(n), y = test::random_floats(n);
  Buffer bx(dev, n * 4), by(dev, n * 4), bz(dev, n * 4);
  bx.upload(std::span<const float>(x));
  by.upload(std::span<const float>(y));
  bz.fill(test::kPoison);
  CommandStream cs(dev);
  // z = x + y; then x = z + y, three times: x + 4y, with barriers between.
  add.record(cs, bx, by, bz, n);
  cs.mark("first");
  for (int i = 0; i < 3; ++i) {
    cs.barrier();
    add.record(cs, bz, by, bx, n);
    cs.barrier();
    add.record(cs, bx, by, bz, n);
  }
  cs.mark("rest");
  cs.submit_and_wait();
  CHECK(cs.dispatch_count() == 7);
  std::vector<float> z(n);
  bz.download(std::span<float>(z));
  for (uint32_t i = 0; i < n; ++i) REQUIRE(z[i] == (((((((x[i] + y[i]) + y[i]) + y[i]) + y[i]) + y[i]) + y[i]) + y[i]));
  if (dev.caps().timestamps) {
    REQUIRE(cs.spans().size() == 2);
    CHECK(cs.spans()[0].label == "first");
    CHECK(cs.spans()[1].ms >= 0);
  }
  // The stream is reusable after a submit.
  add.record(cs, bx, by, bz, n);
  cs.submit_and_wait();
  CHECK(cs.dispatch_count() == 1);
}

// DeviceOptions::fence_wait: the host polls the fence (then blocks after
// 20 ms) or blocks at once; either way a submit's results are there when
// submit_and_wait returns: a short chain (done while polling) and a long one
// (lavapipe: well past the 20 ms of polling, so the blocking wait after it).
TEST_CASE("the host waits for a submit by polling the fence or by blocking", "[gpu]") {
  DeviceOptions o = DeviceOptions::from_env();
  o.fence_wait = "";
  CHECK(Device(test::instance(), test::device().caps().index, o).polls_fences() == !test::device().caps().is_cpu());
  for (const char* mode : {"poll", "block"}) {
    INFO(mode);
    o.fence_wait = mode;
    Device dev(test::instance(), test::device().caps().index, o);
    CHECK(dev.polls_fences() == (std::string(mode) == "poll"));
    ops::Add add(dev);
    for (const uint32_t n : {1024u, 1u << 24}) {
      Buffer bx(dev, uint64_t(n) * 4), bz(dev, uint64_t(n) * 4);
      bx.fill(0x3f800000u);  // 1.0f
      bz.fill(test::kPoison);
      CommandStream cs(dev);
      add.record(cs, bx, bx, bz, n);  // z = 2
      for (int i = 0; i < 8; ++i) {
        cs.barrier();
        add.record(cs, bz, bx, bz, n);  // z += 1
      }
      cs.submit_and_wait();
      std::vector<float> z(n);
      bz.download(std::span<float>(z));
      CHECK(std::count(z.begin(), z.end(), 10.0f) == std::ptrdiff_t(n));
    }
  }
  o.fence_wait = "spin";
  CHECK_THROWS_AS(Device(test::instance(), test::device().caps().index, o), InputError);
}

TEST_CASE("kernels keep the driver's statistics where the device reports them", "[gpu]") {
  DeviceOptions o = DeviceOptions::from_env();
  {  // Not asked for: none, on every device.
    Device dev(test::instance(), test::device().caps().index, o);
    CHECK_FALSE(dev.kernel_stats());
    ops::Add add(dev);
    REQUIRE(dev.kernels().size() == 1);
    CHECK(dev.kernels().front().second->stats().empty());
  }
  o.kernel_stats = true;
  Device dev(test::instance(), test::device().caps().index, o);
  // Asked for: taken where the driver has VK_KHR_pipeline_executable_properties
  // (NVIDIA, RADV, ANV, Turnip; not lavapipe), the kernels unchanged elsewhere.
  CHECK(dev.kernel_stats() == dev.driver_caps().pipeline_stats_ext);
  ops::Add add(dev);
  Buffer bx(dev, 64 * 4), bz(dev, 64 * 4);
  bx.fill(0x3f800000u);  // 1.0f
  CommandStream cs(dev);
  add.record(cs, bx, bx, bz, 64);
  cs.submit_and_wait();
  std::vector<float> z(64);
  bz.download(std::span<float>(z));
  CHECK(std::count(z.begin(), z.end(), 2.0f) == 64);
  const auto kernels = dev.kernels();
  REQUIRE(kernels.size() == 1);
  const auto& stats = kernels.front().second->stats();
  CHECK(stats.empty() == !dev.kernel_stats());
  for (const auto& s : stats) {
    INFO(s.name << " = " << s.value);
    CHECK(!s.name.empty());
    CHECK(std::isfinite(s.value));
  }
}

TEST_CASE("pipeline cache file is written per device and driver", "[gpu]") {
  const auto dir = std::filesystem::temp_directory_path() / ("vkq-pc-" + std::to_string(test::rng()()));
  DeviceOptions o = DeviceOptions::from_env();
  o.cache_dir = dir.string();
  std::string path;
  {
    Device dev(test::instance(), test::device().caps().index, o);
    ops::Add add(dev);  // creates a pipeline
    path = dev.pipeline_cache_path();
    CHECK(path.find(dev.caps().device_uuid) != std::string::npos);
  }
  CHECK(std::filesystem::exists(path));
  {
    Device dev(test::instance(), test::device().caps().index, o);  // loads it back
    ops::Add add(dev);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("the validation messenger catches misuse", "[gpu]") {
  // A private instance, so the deliberate error does not fail this process.
  auto o = InstanceOptions::from_env();
  o.validation = true;
  Instance inst(o);
  if (!inst.validation_enabled()) SKIP("validation layer not enabled");
  Device dev(inst, test::device().caps().index, DeviceOptions{});
  // vkCreateBuffer with size 0 is invalid usage (VUID-VkBufferCreateInfo-size-00912).
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = 0;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  VkBuffer raw = VK_NULL_HANDLE;
  const auto& d = *dev.vk().getDispatcher();
  const VkResult r = d.vkCreateBuffer(static_cast<VkDevice>(*dev.vk()), &bi, nullptr, &raw);
  if (r == VK_SUCCESS && raw) d.vkDestroyBuffer(static_cast<VkDevice>(*dev.vk()), raw, nullptr);
  CHECK(inst.validation_message_count() > 0);
}
