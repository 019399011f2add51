#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "error.hpp"
#include "gpu_weights.hpp"
#include "quant_blocks.hpp"
#include "support/gpu.hpp"

using namespace vkq;

namespace {
// Random rows in GGUF layout: random bytes for quants (every nibble/int8
// pattern), sane fp16 scales.
std::vector<uint8_t> random_file_rows(GgmlType t, uint32_t rows, uint32_t K) {
  const uint64_t bytes = *ggml_row_bytes(t, K) * rows;
  std::vector<uint8_t> v(bytes);
  for (auto& b : v) b = static_cast<uint8_t>(test::rng()());
  if (t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16) {
    // Finite values only, so the comparison is not confused by NaN payloads.
    const auto f = test::random_floats(uint64_t(rows) * K);
    for (uint32_t r = 0; r < rows; ++r) quantize_row(t, f.data() + uint64_t(r) * K, v.data() + r * *ggml_row_bytes(t, K), K);
  }
  return v;
}
}  // namespace

TEST_CASE("repack and unpack are inverses on random blocks", "[weights]") {
  const auto t = GENERATE(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1);
  const bool block = is_block_type(t);
  for (uint32_t K : {32u, 96u, 4096u, 172u, 4u}) {
    if (block && K % 32) continue;
    for (uint32_t rows : {1u, 3u, 64u}) {
      const auto file = random_file_rows(t, rows, K);
      const auto rp = repack_rows(t, file.data(), rows, K);
      CHECK(rp.quants.size() == rows * quant_row_bytes(t, K));
      CHECK(rp.quants.size() % 16 == 0);  // 16-byte rows for the kernels' uvec4 loads
      CHECK(rp.scales.size() % 4 == 0);
      CHECK(unpack_rows(t, rp, rows, K) == file);
    }
  }
}

TEST_CASE("a Q4_0 block lands in the planes as documented", "[weights]") {
  BlockQ4_0 b{};
  b.d = fp32_to_fp16(0.5f);
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  const auto rp = repack_rows(GgmlType::Q4_0, reinterpret_cast<const uint8_t*>(&b), 1, 32);
  REQUIRE(rp.quants.size() == 16);
  for (int j = 0; j < 16; ++j) CHECK(rp.quants[j] == b.qs[j]);
  uint16_t d;
  std::memcpy(&d, rp.scales.data(), 2);
  CHECK(d == b.d);
  CHECK_THROWS_AS(repack_rows(GgmlType::Q4_0, rp.quants.data(), 1, 33), InputError);
}

TEST_CASE("weights upload in chunks under the buffer limit and download back", "[gpu]") {
  auto& dev = test::device();
  const auto t = GENERATE(GgmlType::F16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0);
  const uint32_t M = 37, K = 256;
  const auto file = random_file_rows(t, M, K);
  // A tiny plane limit forces many chunks.
  GpuMatrix w(dev, t, file.data(), M, K, 4 * quant_row_bytes(t, K) + 8);
  CHECK(w.chunks().size() >= 9);
  uint32_t covered = 0;
  for (const auto& c : w.chunks()) {
    CHECK(c.row0 == covered);
    covered += c.rows;
  }
  CHECK(covered == M);
  CHECK(w.download_file_layout() == file);
}
