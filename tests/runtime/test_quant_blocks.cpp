// RTN block quantizers against hand-computed blocks (ggml's reference
// rounding), and dequantize(quantize(x)) error bounds on random data.
#include <catch2/catch_test_macros.hpp>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "ggml_types.hpp"
#include "quant_blocks.hpp"
#include "support/gpu.hpp"

using vkq::GgmlType;

TEST_CASE("Q8_0: d = amax / 127, q = roundf(x / d)", "[quant]") {
  // amax 127 gives d = 1 exactly, so q = roundf(x): halves round away from zero.
  float x[32] = {127.0f, -127.0f, 0.5f, -0.5f, 1.49f, 2.5f, -2.5f, 0.0f, 100.4f, -3.6f};
  vkq::BlockQ8_0 b{};
  vkq::quantize_row(GgmlType::Q8_0, x, &b, 32);
  CHECK(b.d == 0x3c00);  // fp16 1.0
  const int8_t expect[10] = {127, -127, 1, -1, 1, 3, -3, 0, 100, -4};
  for (int j = 0; j < 10; ++j) CHECK(b.qs[j] == expect[j]);
  for (int j = 10; j < 32; ++j) CHECK(b.qs[j] == 0);
  float y[32];
  vkq::dequantize_row(GgmlType::Q8_0, &b, y, 32);
  CHECK(y[5] == 3.0f);
  CHECK(y[1] == -127.0f);

  // amax 1: d = 1/127 is rounded to fp16 for storage (0x2008), q uses the fp32 d.
  float z[32] = {};
  z[0] = 1.0f;
  z[1] = 0.5f;
  vkq::quantize_row(GgmlType::Q8_0, z, &b, 32);
  CHECK(b.d == vkq::fp32_to_fp16(1.0f / 127.0f));
  CHECK(b.d == 0x2008);
  CHECK(b.qs[0] == 127);
  CHECK(b.qs[1] == 64);  // 63.5 rounds away from zero
}

TEST_CASE("Q4_0: d = (signed max-magnitude element) / -8, q = min(15, trunc(x/d + 8.5))", "[quant]") {
  // Largest magnitude -8 -> d = 1: q = trunc(x + 8.5), clamped to 15.
  float x[32] = {};
  x[0] = -8.0f;  // -> 0
  x[1] = 7.0f;   // 15.5 -> 15
  x[2] = 7.4f;   // 15.9 -> 15
  x[3] = -0.6f;  // 7.9 -> 7
  x[4] = 0.4f;   // 8.9 -> 8
  x[5] = 0.5f;   // 9.0 -> 9
  x[16] = -7.5f;  // 1.0 -> 1 (high nibble of byte 0)
  x[17] = 3.2f;   // 11.7 -> 11 (high nibble of byte 1)
  vkq::BlockQ4_0 b{};
  vkq::quantize_row(GgmlType::Q4_0, x, &b, 32);
  CHECK(b.d == 0x3c00);
  CHECK(b.qs[0] == (0 | (1 << 4)));
  CHECK(b.qs[1] == (15 | (11 << 4)));
  CHECK(b.qs[2] == (15 | (8 << 4)));
  CHECK(b.qs[3] == (7 | (8 << 4)));
  CHECK(b.qs[4] == (8 | (8 << 4)));
  CHECK(b.qs[5] == (9 | (8 << 4)));
  float y[32];
  vkq::dequantize_row(GgmlType::Q4_0, &b, y, 32);
  CHECK(y[0] == -8.0f);
  CHECK(y[1] == 7.0f);
  CHECK(y[16] == -7.0f);
  CHECK(y[31] == 0.0f);

  // Largest magnitude +8 -> d = -1: the maximum maps to q = 0 and back to +8.
  float p[32] = {};
  p[0] = 8.0f;
  p[1] = -7.0f;  // -(-7) + 8.5 = 15.5 -> 15
  vkq::quantize_row(GgmlType::Q4_0, p, &b, 32);
  CHECK(b.d == 0xbc00);  // fp16 -1.0
  CHECK((b.qs[0] & 0xf) == 0);
  CHECK((b.qs[1] & 0xf) == 15);
  vkq::dequantize_row(GgmlType::Q4_0, &b, y, 32);
  CHECK(y[0] == 8.0f);
  CHECK(y[1] == -7.0f);

  // All zero: d = 0 / -8 = -0 (as in ggml), every q = 8, back to 0.
  float zero[32] = {};
  vkq::quantize_row(GgmlType::Q4_0, zero, &b, 32);
  CHECK(b.d == 0x8000);
  for (auto q : b.qs) CHECK(q == 0x88);
}

TEST_CASE("Q4_1: d = (max - min) / 15, m = min, q = min(15, trunc((x - min)/d + 0.5))", "[quant]") {
  float x[32];
  for (auto& v : x) v = 2.0f;
  x[0] = -1.0f;  // min -> 0
  x[1] = 14.0f;  // max -> 15
  x[2] = 0.4f;   // 1.4 + 0.5 = 1.9 -> 1
  x[3] = 0.5f;   // 1.5 + 0.5 = 2.0 -> 2
  x[16] = 6.2f;  // 7.2 + 0.5 = 7.7 -> 7
  vkq::BlockQ4_1 b{};
  vkq::quantize_row(GgmlType::Q4_1, x, &b, 32);
  CHECK(b.d == 0x3c00);
  CHECK(b.m == 0xbc00);
  CHECK(b.qs[0] == (0 | (7 << 4)));
  CHECK(b.qs[1] == (15 | (3 << 4)));  // x[17] = 2 -> 3.5 -> 3
  CHECK(b.qs[2] == (1 | (3 << 4)));
  CHECK(b.qs[3] == (2 | (3 << 4)));
  float y[32];
  vkq::dequantize_row(GgmlType::Q4_1, &b, y, 32);
  CHECK(y[0] == -1.0f);
  CHECK(y[1] == 14.0f);
  CHECK(y[16] == 6.0f);
}

TEST_CASE("F16 and BF16 rows round to nearest even", "[quant]") {
  const float x[4] = {1.0f, -2.5f, 65504.0f, 1.0f + 1.0f / 2048.0f};  // the last is a tie: rounds to even (1.0)
  uint16_t h[4], b[4];
  vkq::quantize_row(GgmlType::F16, x, h, 4);
  CHECK(h[0] == 0x3c00);
  CHECK(h[1] == 0xc100);
  CHECK(h[2] == 0x7bff);
  CHECK(h[3] == 0x3c00);
  vkq::quantize_row(GgmlType::BF16, x, b, 4);
  CHECK(b[0] == 0x3f80);
  CHECK(b[1] == 0xc020);
  float y[4];
  vkq::dequantize_row(GgmlType::F16, h, y, 4);
  CHECK(y[1] == -2.5f);
  vkq::dequantize_row(GgmlType::BF16, b, y, 4);
  CHECK(y[0] == 1.0f);
  float f[4];
  vkq::quantize_row(GgmlType::F32, x, f, 4);
  CHECK(std::memcmp(f, x, sizeof(x)) == 0);
}

TEST_CASE("dequantize(quantize(x)) stays within a step", "[quant]") {
  const size_t n = 32 * 64;
  const auto x = vkq::test::random_floats(n, -3.0f, 3.0f);
  for (const auto type : {GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1}) {
    INFO(vkq::ggml_type_name(type));
    std::vector<uint8_t> q(*vkq::ggml_row_bytes(type, n));
    std::vector<float> y(n);
    vkq::quantize_row(type, x.data(), q.data(), n);
    vkq::dequantize_row(type, q.data(), y.data(), n);
    const size_t bb = vkq::ggml_type_info(type).block_bytes;
    for (size_t blk = 0; blk < n / 32; ++blk) {
      uint16_t dh;
      std::memcpy(&dh, q.data() + blk * bb, 2);
      const float step = std::fabs(vkq::fp16_to_fp32(dh));
      // Half a step, plus the fp16 rounding of d spread over up to 8 (Q4_0),
      // 15 (Q4_1) or 127 (Q8_0) steps. Q4_0 reaches only 7 steps on the side
      // opposite its largest-magnitude element, so there the error is up to a step.
      const float half = type == GgmlType::Q4_0 ? 1.0f : 0.5f;
      const float tol = step * (half + 128.0f / 2048.0f) + 2e-3f;
      for (size_t j = blk * 32; j < blk * 32 + 32; ++j) CHECK(std::fabs(y[j] - x[j]) <= tol);
    }
  }
}

TEST_CASE("rows must be whole blocks of a supported type", "[quant]") {
  float x[33] = {};
  uint8_t out[64];
  CHECK_THROWS_AS(vkq::quantize_row(GgmlType::Q4_0, x, out, 33), std::invalid_argument);
  CHECK_THROWS_AS(vkq::dequantize_row(GgmlType::Q8_0, out, x, 16), std::invalid_argument);
  CHECK_THROWS_AS(vkq::quantize_row(GgmlType::Q4_K, x, out, 256), std::invalid_argument);
  // NaN and infinities never reach an undefined float -> int conversion.
  float bad[32] = {NAN, INFINITY, -INFINITY};
  CHECK_NOTHROW(vkq::quantize_row(GgmlType::Q4_0, bad, out, 32));
  CHECK_NOTHROW(vkq::quantize_row(GgmlType::Q4_1, bad, out, 32));
  CHECK_NOTHROW(vkq::quantize_row(GgmlType::Q8_0, bad, out, 32));
}
