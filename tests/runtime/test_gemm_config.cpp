// GEMM tile sizes from device limits (runtime/ops/gemm_config.cpp): no GPU.
#include <array>
#include <string>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "error.hpp"
#include "ops/gemm_config.hpp"

using namespace vkq;
using namespace vkq::ops;

namespace {

DeviceCaps caps_with(uint32_t shared, uint32_t invocations, uint32_t sg_min, uint32_t sg, uint32_t sg_max) {
  DeviceCaps c;
  c.name = std::string("test device");  // (a move: GCC 12 warns falsely on assigning a short literal here)
  c.max_shared_memory = shared;
  c.max_workgroup_invocations = invocations;
  c.max_workgroup_size = {invocations, invocations, 64};
  c.min_subgroup_size = sg_min;
  c.subgroup_size = sg;
  c.max_subgroup_size = sg_max;
  return c;
}

}  // namespace

TEST_CASE("tiled GEMM tiles follow shared memory and workgroup limits", "[gemm-config]") {
  const auto h100 = tiled_gemm_config(caps_with(49152, 1024, 32, 32, 32), 512);
  CHECK((h100.bm == 128 && h100.bn == 128 && h100.wg == 256 && h100.pad == 1));
  // 32 KiB (lavapipe, Mali, Adreno): the same tile without padding.
  const auto lavapipe = tiled_gemm_config(caps_with(32768, 1024, 8, 8, 8), 130);
  CHECK((lavapipe.bm == 128 && lavapipe.bn == 128 && lavapipe.wg == 256 && lavapipe.pad == 0));
  const auto mid = tiled_gemm_config(caps_with(25600, 1024, 8, 8, 8), 512);
  CHECK((mid.bm == 128 && mid.bn == 64 && mid.pad == 1));
  // shared-mem=16384 and rpi5-like: 64 x 64 fits only without padding.
  const auto small = tiled_gemm_config(caps_with(16384, 256, 4, 16, 16), 512);
  CHECK((small.bm == 64 && small.bn == 64 && small.wg == 256 && small.pad == 0));
  CHECK(small.shared_bytes() == 16384);
  const auto tiny = tiled_gemm_config(caps_with(8192, 64, 4, 4, 4), 512);
  CHECK((tiny.wg <= 64 && tiny.shared_bytes() <= 8192));
  CHECK_THROWS_AS(tiled_gemm_config(caps_with(2048, 64, 4, 4, 4), 512), DeviceError);
  // Tuning picks a listed tile or fails with the list.
  CHECK(tiled_gemm_config(caps_with(49152, 1024, 32, 32, 32), 512, {0, 64, 32}).wg == 128);
  CHECK_THROWS_AS(tiled_gemm_config(caps_with(49152, 1024, 32, 32, 32), 512, {0, 48, 0}), InputError);
  // Columns follow n: no more than n rounded up to a power of two (16 ..).
  const auto lp = caps_with(32768, 1024, 8, 8, 8);
  CHECK(tiled_gemm_config(lp, 9).bn == 16);
  CHECK(tiled_gemm_config(lp, 9).bm == 128);
  CHECK(tiled_gemm_config(lp, 17).bn == 32);
  CHECK(tiled_gemm_config(lp, 64).bn == 64);
  CHECK(tiled_gemm_config(lp, 65).bn == 128);
  CHECK(tiled_gemm_config(caps_with(16384, 256, 4, 16, 16), 9).bn == 16);
  // Every listed configuration is self-consistent.
  for (uint32_t shared : {4096u, 8192u, 16384u, 32768u, 49152u, 65536u}) {
    for (uint32_t inv : {64u, 128u, 256u, 1024u}) {
      for (uint32_t n : {1u, 9u, 17u, 40u, 64u, 100u, 512u}) {
        const auto c = tiled_gemm_config(caps_with(shared, inv, 32, 32, 32), n);
        CHECK(c.shared_bytes() <= shared);
        CHECK(c.wg <= inv);
        CHECK(c.wg == (c.bm / c.tm) * (c.bn / c.tn));
        CHECK((c.bn <= 16 || c.bn < 2 * n));
      }
    }
  }
}

TEST_CASE("cooperative-matrix GEMM tiles cover the workgroup tile for every subgroup size", "[gemm-config]") {
  const auto sg = GENERATE(std::array<uint32_t, 3>{32, 32, 32}, std::array<uint32_t, 3>{32, 64, 64},
                           std::array<uint32_t, 3>{32, 32, 64}, std::array<uint32_t, 3>{8, 16, 32},
                           std::array<uint32_t, 3>{16, 16, 16});
  const auto shared = GENERATE(16384u, 32768u, 49152u, 65536u);
  const auto shape = GENERATE(std::array<uint32_t, 2>{4096, 512}, std::array<uint32_t, 2>{14336, 512},
                              std::array<uint32_t, 2>{4096, 9}, std::array<uint32_t, 2>{7, 130},
                              std::array<uint32_t, 2>{128256, 4096});
  const auto caps = caps_with(shared, 1024, sg[0], sg[1], sg[2]);
  const auto c = coopmat_gemm_config(caps, shape[0], shape[1]);
  INFO(c.describe() << " sg " << sg[0] << "/" << sg[1] << "/" << sg[2] << " shared " << shared);
  CHECK(c.shared_bytes() <= shared);
  CHECK(c.wg % sg[2] == 0);
  CHECK((c.bm % c.wm == 0 && c.bn % c.wn == 0 && c.wm % 16 == 0 && c.wn % 16 == 0));
  // Every subgroup tile has a subgroup even with the fewest subgroups.
  CHECK((c.bm / c.wm) * (c.bn / c.wn) <= c.wt_max * (c.wg / sg[2]));
  // Staging has room for the most subgroups.
  CHECK(c.nsub_max == c.wg / sg[0]);
}

TEST_CASE("cooperative-matrix GEMM tiles on the H100 shape", "[gemm-config]") {
  const auto h100 = caps_with(49152, 1024, 32, 32, 32);
  const auto big = coopmat_gemm_config(h100, 12288, 512);
  // The measured best on the H100 and H200 (benchmarks/RESULTS.md): 256
  // invocations, 128 x 128 tiles, 8 subgroups of 32 x 64, K 64 per step in
  // one buffer (256 rows of 144 bytes and the staging: 44 KiB).
  CHECK((big.wg == 256 && big.bm == 128 && big.bn == 128 && big.wm == 32 && big.wn == 64 && big.wt_max == 1));
  CHECK((big.kb == 2 && big.nbuf == 1));
  CHECK(big.shared_bytes() == 256 * 144 + 8 * 1024);
  // Gate/up's prefill shape: 86 x 4 tiles of 256 x 128, 32 deep in one
  // buffer (384 rows of 80 bytes and the staging: 38 KiB), 8 subgroups of
  // 64 x 64: 8% faster there on the H100; from 224 such tiles up (14336
  // rows), not at 192 (12288 rows, QKV's, where it was slower).
  CHECK(coopmat_gemm_config(h100, 14336, 512).bm == 256);
  CHECK(coopmat_gemm_config(h100, 12288, 512).bm == 128);
  const auto tall = coopmat_gemm_config(h100, 22016, 512);
  CHECK((tall.wg == 256 && tall.bm == 256 && tall.bn == 128 && tall.wm == 64 && tall.wn == 64));
  CHECK((tall.kb == 1 && tall.nbuf == 1 && tall.shared_bytes() == 384 * 80 + 8 * 1024));
  CHECK(coopmat_gemm_config(h100, 22016, 512, {0, 0, 0}, 4096).bm == 256);
  // Any tuning keeps the 128-row default.
  CHECK(coopmat_gemm_config(h100, 22016, 512, {256, 0, 0}).bm == 128);
  // 4096 rows x 512 columns: 32 x 4 tiles of 128 still cover the GPU.
  const auto mid = coopmat_gemm_config(h100, 4096, 512);
  CHECK((mid.bm == 128 && mid.bn == 128));
  // A grid under 64 tiles halves the rows.
  CHECK(coopmat_gemm_config(h100, 1024, 512).bm == 64);
  CHECK(coopmat_gemm_config(h100, 4096, 64).bn == 64);
  CHECK(coopmat_gemm_config(h100, 4096, 17).bn == 32);
  // Tuning overrides; impossible requests fail with a message.
  const auto t = coopmat_gemm_config(h100, 4096, 512, {256, 128, 128});
  CHECK((t.wg == 256 && t.bm == 128 && t.bn == 128 && t.wm * t.wn == 128 * 128 / 8));
  CHECK_THROWS_AS(coopmat_gemm_config(h100, 4096, 512, {96, 0, 0}), InputError);
  CHECK_THROWS_AS(coopmat_gemm_config(h100, 4096, 512, {0, 256, 256}), InputError);
}

TEST_CASE("cooperative-matrix GEMM steps deeper than one block", "[gemm-config]") {
  const auto h100 = caps_with(49152, 1024, 32, 32, 32);
  // Default: two blocks per step in one buffer; one in two where two do
  // not divide K (7 blocks).
  const auto d = coopmat_gemm_config(h100, 4096, 512, {}, 4096);
  CHECK((d.kb == 2 && d.nbuf == 1));
  const auto odd = coopmat_gemm_config(h100, 4096, 512, {}, 224);
  CHECK((odd.kb == 1 && odd.nbuf == 2 && odd.bm == 128 && odd.bn == 128));
  // The previous default on request.
  const auto old = coopmat_gemm_config(h100, 4096, 512, {0, 0, 0, 32, 2}, 4096);
  CHECK((old.kb == 1 && old.nbuf == 2 && old.shared_bytes() == 2 * 256 * 80 + 8 * 1024));
  // 64 deep with one buffer: 128 x 128 still fits 48 KiB (256 rows of 144 bytes + staging).
  const auto one = coopmat_gemm_config(h100, 4096, 512, {0, 0, 0, 64, 1}, 4096);
  CHECK((one.kb == 2 && one.nbuf == 1 && one.bm == 128 && one.bn == 128));
  CHECK(one.shared_bytes() == 256 * 144 + 8 * 1024);
  CHECK(one.spec_constants().size() == 10);
  CHECK(one.spec_constants().back() == 1);  // columns first unless asked (GemmTuning::order)
  ops::GemmTuning rows{0, 0, 0, 64, 1};
  rows.order = ops::GemmTuning::kRowsFirst;
  CHECK(coopmat_gemm_config(h100, 4096, 512, rows, 4096).spec_constants().back() == 0);
  // Two buffers of 64-deep rows do not fit a 128 x 128 tile: it shrinks.
  const auto two = coopmat_gemm_config(h100, 4096, 512, {0, 0, 0, 64, 2}, 4096);
  CHECK(two.shared_bytes() <= 49152);
  CHECK(two.bm * two.bn < 128 * 128);
  // A step that does not divide the padded K is cut to one that does
  // (4128 = 129 blocks: 4 per step does not divide it, 3 does).
  CHECK(coopmat_gemm_config(h100, 4096, 512, {0, 0, 0, 128, 1}, 4128).kb == 3);
  CHECK(coopmat_gemm_config(h100, 4096, 512, {0, 0, 0, 128, 1}, 11008).kb == 4);
  CHECK(coopmat_gemm_config(h100, 4096, 512, {0, 0, 0, 64, 1}, 224).kb == 1);
  CHECK_THROWS_AS(coopmat_gemm_config(h100, 4096, 512, {0, 0, 0, 48, 1}), InputError);
  CHECK_THROWS_AS(coopmat_gemm_config(h100, 4096, 512, {0, 0, 0, 64, 3}), InputError);
}
