// RTN: blocks worked out by hand for Q4_0, Q4_1 and Q8_0 (ggml's reference
// rounding), through quantize_rtn and through the grid that GPTQ uses
// (block_grid + quantize_value + pack_block), which must agree bit for bit
// with runtime/quant_blocks.hpp on any data.
#include <cstring>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "block_grid.hpp"
#include "quant_blocks.hpp"
#include "rtn.hpp"
#include "support/gpu.hpp"

using namespace vkq;
using namespace vkq::quant;

namespace {

// The block through the grid functions, one weight at a time.
std::vector<uint8_t> via_grid(GgmlType t, const std::vector<float>& x) {
  const BlockGrid g = block_grid(t, x.data());
  int q[kQK];
  for (uint32_t j = 0; j < kQK; ++j) q[j] = quantize_value(t, g, x[j]);
  std::vector<uint8_t> out(ggml_type_info(t).block_bytes);
  pack_block(t, g, q, out.data());
  return out;
}

void check_block(GgmlType t, const std::vector<float>& x, const std::vector<uint8_t>& want,
                 const std::vector<float>& want_deq) {
  const QuantizedMatrix q = quantize_rtn(t, x, 1, kQK);
  CHECK(q.data == want);
  CHECK(via_grid(t, x) == want);
  for (uint32_t j = 0; j < kQK; ++j) {
    INFO("element " << j);
    CHECK(q.weights[j] == want_deq[j]);
  }
}

}  // namespace

TEST_CASE("RTN Q4_0: a block by hand", "[quant][rtn]") {
  // x = j - 16: the largest magnitude is x[0] = -16, so d = -16 / -8 = 2;
  // q = min(15, trunc(x / 2 + 8.5)); x[31] = 15 would be 16 and is clamped.
  std::vector<float> x(kQK);
  for (uint32_t j = 0; j < kQK; ++j) x[j] = float(j) - 16;
  const int q[kQK] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 15};
  const std::vector<uint8_t> want = {0x00, 0x40,  // d = fp16(2.0), little-endian
                                     0x80, 0x91, 0x91, 0xA2, 0xA2, 0xB3, 0xB3, 0xC4,
                                     0xC4, 0xD5, 0xD5, 0xE6, 0xE6, 0xF7, 0xF7, 0xF8};  // q[j] | q[j+16] << 4
  std::vector<float> deq(kQK);
  for (uint32_t j = 0; j < kQK; ++j) deq[j] = 2.0f * float(q[j] - 8);
  check_block(GgmlType::Q4_0, x, want, deq);
}

TEST_CASE("RTN Q4_1: a block by hand", "[quant][rtn]") {
  // x = 3 + (j % 16) / 2: min 3, max 10.5, d = 7.5 / 15 = 0.5, m = 3,
  // q = trunc((x - 3) * 2 + 0.5). Two weights off the grid: 5.7 -> q 5
  // (5.5), 6.3 -> q 7 (6.5): each to the nearest point.
  std::vector<float> x(kQK);
  for (uint32_t j = 0; j < kQK; ++j) x[j] = 3.0f + 0.5f * float(j % 16);
  x[5] = 5.7f;
  x[6] = 6.3f;
  std::vector<uint8_t> want = {0x00, 0x38, 0x00, 0x42};  // d = fp16(0.5), m = fp16(3.0)
  for (uint32_t j = 0; j < 16; ++j) want.push_back(uint8_t(j | j << 4));
  want[4 + 6] = 0x67;  // q[6] = 7, q[22] = 6
  std::vector<float> deq(kQK);
  for (uint32_t j = 0; j < kQK; ++j) deq[j] = 3.0f + 0.5f * float(j % 16);
  deq[6] = 6.5f;
  check_block(GgmlType::Q4_1, x, want, deq);
}

TEST_CASE("RTN Q8_0: a block by hand", "[quant][rtn]") {
  // max |x| = 127, so d = 1 and q = roundf(x): halves round away from zero.
  std::vector<float> x = {-127.0f, 100.4f, 50.6f, -0.5f, 2.5f, 126.49f};
  for (uint32_t j = 6; j < kQK; ++j) x.push_back(float(j) - 16);
  std::vector<uint8_t> want = {0x00, 0x3C, 0x81, 0x64, 0x33, 0xFF, 0x03, 0x7E};  // d = fp16(1.0); -127 100 51 -1 3 126
  std::vector<float> deq = {-127, 100, 51, -1, 3, 126};
  for (uint32_t j = 6; j < kQK; ++j) {
    want.push_back(uint8_t(int8_t(int(j) - 16)));
    deq.push_back(float(j) - 16);
  }
  check_block(GgmlType::Q8_0, x, want, deq);
}

TEST_CASE("RTN: the grid functions agree with quant_blocks on random blocks", "[quant][rtn]") {
  for (const GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0}) {
    INFO(ggml_type_name(t));
    for (int rep = 0; rep < 200; ++rep) {
      auto x = vkq::test::random_floats(kQK, -2.0f, 2.0f);
      if (rep % 10 == 0) x.assign(kQK, 0.0f);          // all zero: d = 0
      if (rep % 10 == 1) x[rep % kQK] = 40.0f;          // one outlier
      if (rep % 10 == 2)                                // values on the grid's half points
        for (uint32_t j = 0; j < kQK; ++j) x[j] = float(int(j) - 16) * 0.5f;
      std::vector<uint8_t> want(ggml_type_info(t).block_bytes);
      quantize_row(t, x.data(), want.data(), kQK);
      CHECK(via_grid(t, x) == want);
      // dequantize_value gives what dequantize_row gives.
      std::vector<float> deq(kQK);
      dequantize_row(t, want.data(), deq.data(), kQK);
      const BlockGrid g = block_grid(t, x.data());
      for (uint32_t j = 0; j < kQK; ++j) CHECK(dequantize_value(t, g, quantize_value(t, g, x[j])) == deq[j]);
    }
  }
}

TEST_CASE("RTN: quantize_rtn on matrices of several rows and float types", "[quant][rtn]") {
  const auto w = vkq::test::random_floats(3 * 64);
  for (const GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1}) {
    const QuantizedMatrix q = quantize_rtn(t, w, 3, 64);
    const uint64_t rb = *ggml_row_bytes(t, 64);
    REQUIRE(q.data.size() == 3 * rb);
    for (uint64_t r = 0; r < 3; ++r) {
      std::vector<uint8_t> row(rb);
      quantize_row(t, w.data() + r * 64, row.data(), 64);
      CHECK(std::memcmp(row.data(), q.data.data() + r * rb, rb) == 0);
    }
  }
  CHECK_THROWS(quantize_rtn(GgmlType::Q4_0, std::span(w).first(96), 2, 48));  // rows of 48: not whole blocks
}
