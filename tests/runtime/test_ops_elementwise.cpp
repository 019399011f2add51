#include <cmath>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "error.hpp"
#include "ggml_types.hpp"
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

// packHalf2x16's rounding is the implementation's (nearest or toward zero):
// each half within one fp16 ulp of x, and equal to the nearest-even reference
// on most elements.
TEST_CASE("convert_f16 matches the CPU reference within an fp16 ulp", "[gpu][kernel]") {
  auto& dev = test::device();
  ops::ConvertF16 conv(dev);
  const uint32_t n = GENERATE(4u, 1024u, 100004u);
  auto x = test::random_floats(n);
  x[0] = 1e-6f;  // an fp16 subnormal
  x[1] = -65504.0f;
  x[2] = 0.0f;
  std::vector<uint16_t> ref(n), h(n);
  ops::convert_f16_ref(x, ref);
  Buffer bx(dev, uint64_t(n) * 4), bh(dev, uint64_t(n) * 2);
  bx.upload(std::span<const float>(x));
  bh.fill(test::kPoison);
  CommandStream cs(dev);
  conv.record(cs, bx, bh, n);
  cs.submit_and_wait();
  bh.download(std::span<uint16_t>(h));
  uint64_t same = 0;
  for (uint32_t i = 0; i < n; ++i) {
    same += h[i] == ref[i];
    const float got = fp16_to_fp32(h[i]), want = fp16_to_fp32(ref[i]);
    const float ulp = std::max(std::ldexp(std::fabs(want), -10), std::ldexp(1.0f, -24));
    INFO("element " << i << ": x " << x[i] << " got " << got << " reference " << want);
    REQUIRE(std::fabs(got - x[i]) <= ulp);
  }
  CHECK(same >= n / 2);
  CHECK_THROWS_AS(conv.record(cs, bx, bh, 6), InputError);
}
