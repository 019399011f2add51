#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "ops/elementwise.hpp"
#include "support/gpu.hpp"

using namespace vkq;

TEST_CASE("add matches the CPU reference", "[gpu][kernel]") {
  auto& dev = test::device();
  ops::Add add(dev);
  // Exact: one fp32 add per element on both sides.
  const uint32_t n = GENERATE(1u, 7u, 255u, 256u, 257u, 100000u, 65535u * 256u + 3u);
  auto x = test::random_floats(n), y = test::random_floats(n);
  std::vector<float> ref(n);
  ops::add_ref(x, y, ref);
  Buffer bx(dev, n * 4), by(dev, n * 4), bz(dev, n * 4);
  bx.upload(std::span<const float>(x));
  by.upload(std::span<const float>(y));
  bz.fill(test::kPoison);
  CommandStream cs(dev);
  add.record(cs, bx, by, bz, n);
  cs.submit_and_wait();
  std::vector<float> z(n);
  bz.download(std::span<float>(z));
  INFO("n = " << n << ", variant " << add.variant());
  for (uint32_t i = 0; i < n; ++i) REQUIRE(z[i] == ref[i]);
}
