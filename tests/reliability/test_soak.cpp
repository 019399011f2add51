// Soak: after a warm-up of 1,000 steps, 2,000 decode steps of stories260K on
// the Vulkan forward pass (the recorded decode step replayed: one submit per
// token) with no growth in host memory (RSS, malloc's bytes in use) or
// device memory (vkq's allocations: bytes and count). The context is 512
// tokens; when it is full the sequence starts again at position 0 with BOS
// (the cache rows are overwritten, as a new conversation on the same session
// would). The warm-up covers two wraps: on lavapipe, RSS grows once by about
// 1 MiB (free pages of a driver thread's malloc arena touched; malloc's
// bytes in use do not move) and stays flat after; where that happens
// depends on the forward pass (with the fused decode of this tree, F32:
// between steps 2,500 and 3,000).
// Tagged [slow] (ctest label "slow").
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "ggml_types.hpp"
#include "reliability/host_memory.hpp"
#include "sampler.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"
#include "vulkan_forward.hpp"

namespace {

struct Snapshot {
  vkq::test::HostMemory host;
  vkq::MemoryStats device;
  size_t validation_messages = 0;
};

Snapshot snapshot(const vkq::Device& dev) {
  return {vkq::test::HostMemory::now(), dev.memory_stats(), dev.instance().validation_message_count()};
}

void print(const char* when, uint32_t step, const Snapshot& s) {
  std::fprintf(stderr, "soak %-5s step %5u: rss %llu KiB, malloc in use %llu KiB, device %llu B in %llu allocations\n",
               when, step, static_cast<unsigned long long>(s.host.rss >> 10),
               static_cast<unsigned long long>(s.host.malloc_used >> 10),
               static_cast<unsigned long long>(s.device.current), static_cast<unsigned long long>(s.device.allocations));
}

uint64_t growth(uint64_t before, uint64_t after) { return after > before ? after - before : 0; }

}  // namespace

TEST_CASE("soak: 2,000 decode steps on stories260K leave host and device memory flat", "[gpu][slow][soak]") {
  VKQ_REQUIRE_STORIES260K();
  constexpr uint32_t kWarmup = 1000, kCtx = 512;
  // VKQ_SOAK_STEPS measures longer by hand (figures print every 500 steps).
  const char* env_steps = std::getenv("VKQ_SOAK_STEPS");
  const uint32_t measured = env_steps ? std::max(static_cast<uint32_t>(std::stoul(env_steps)), 2u) : 2000;
  const uint32_t steps = kWarmup + measured;
  const auto type = GENERATE(vkq::GgmlType::F32, vkq::GgmlType::Q4_0);
  INFO("weights " << vkq::ggml_type_name(type));
  std::fprintf(stderr, "soak: stories260K %s, n_ctx %u, %u warm-up + %u measured decode steps\n",
               vkq::ggml_type_name(type), kCtx, kWarmup, measured);
  const auto loaded = vkq::test::load_stories260k(type);
  auto& dev = vkq::test::device();
  vkq::VulkanForwardOptions o;
  o.n_ctx = kCtx;
  vkq::VulkanForward fwd(dev, *loaded.model, o);
  vkq::Sampler sampler({.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .seed = 7});
  const int32_t bos = 1;

  int32_t token = bos;
  uint32_t restarts = 0;
  Snapshot warm{};
  for (uint32_t step = 0; step < steps; ++step) {
    if (step == kWarmup) {
      warm = snapshot(dev);
      print("warm", step, warm);
    } else if (step > kWarmup && step % 500 == 0) {
      print("at", step, snapshot(dev));
    }
    const uint32_t pos = step % kCtx;
    if (pos == 0 && step > 0) {
      token = bos;
      ++restarts;
    }
    const auto logits = fwd.decode(token, pos);
    REQUIRE(logits.size() == fwd.n_vocab());
    token = sampler.sample(logits);
    REQUIRE((token >= 0 && static_cast<uint32_t>(token) < fwd.n_vocab()));
  }
  const Snapshot end = snapshot(dev);
  print("end", steps, end);
  CHECK(restarts == (steps - 1) / kCtx);

  // Device memory: not one byte or allocation more.
  CHECK(end.device.current == warm.device.current);
  CHECK(end.device.allocations == warm.device.allocations);
  // Host: malloc's bytes in use wobble by a few KiB (containers in the
  // driver and the validation layer), but a leak of 8 bytes per step would
  // add 16 KiB over the 2,000 steps.
  CHECK(growth(warm.host.malloc_used, end.host.malloc_used) < 16 * 1024);
  // RSS moves in whole pages and sees every mapping: flat within 2 MiB (a
  // leak of 1 KiB per step would pass it; the malloc check above catches
  // far less). Not 1 MiB: with F32 weights the one-time growth (above)
  // comes after the warm-up, +1,028 KiB between steps 2,500 and 3,000 with
  // malloc's bytes in use +3 KiB, and RSS is flat from there to step 6,000
  // (VKQ_SOAK_STEPS=5000; docs/reliability.md).
  CHECK(growth(warm.host.rss, end.host.rss) <= 2 * 1024 * 1024);
  CHECK(end.validation_messages == warm.validation_messages);
}
