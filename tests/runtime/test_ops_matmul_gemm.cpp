// The prefill GEMM path of ops::Matmul (n > 8): matmul_<type>_<act>_tiled and
// _coopmat against the fp64 CPU reference (tolerances in
// tests/support/matmul_check.cpp), and how the GEMM variant is chosen.
#include <cmath>
#include <initializer_list>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>

#include "device_profile.hpp"
#include "error.hpp"
#include "gpu_weights.hpp"
#include "quant_blocks.hpp"
#include "ops/matmul.hpp"
#include "shader_registry.hpp"
#include "support/gpu.hpp"
#include "support/matmul_check.hpp"
#include "variant_select.hpp"

using namespace vkq;
using test::check_every_variant;
using test::runnable;
using Shape = test::MatmulShape;
using Catch::Generators::from_range;

// Odd M (1, 7, 33, 130, 1000: partial row tiles), K from 32 to 4096, n = 9,
// 17, 64, 130 (partial column tiles): run once per suite.
TEST_CASE("GEMM matches the CPU reference for every type, activation type, variant and shape", "[gpu][kernel-full]") {
  const auto t = GENERATE(from_range(test::matmul_weight_types()));
  const auto act = GENERATE(ops::ActType::f32, ops::ActType::f16);
  const auto s = GENERATE(Shape{1, 32, 9}, Shape{7, 4096, 17}, Shape{33, 1024, 64}, Shape{1000, 256, 130},
                          Shape{130, 96, 130}, Shape{1000, 4096, 9});
  check_every_variant("matmul", t, act, {s});
}

// Small shapes, re-run under each profile (16 KiB shared memory, 256
// invocations, ...) and subgroup size: each picks its own tile. (n <= 16
// here: one pipeline per variant; the tests below take the wider tiles.)
TEST_CASE("GEMM matches the CPU reference under the device profile", "[gpu][kernel]") {
  const auto t = GENERATE(from_range(test::matmul_weight_types()));
  const auto act = GENERATE(ops::ActType::f32, ops::ActType::f16);
  check_every_variant("matmul", t, act, {Shape{33, 256, 9}, Shape{130, 64, 13}});
}

TEST_CASE("GEMM with plain-type weights and K not a multiple of 32", "[gpu][kernel]") {
  const auto t = GENERATE(GgmlType::F32, GgmlType::F16);
  check_every_variant("matmul", t, ops::ActType::f32, {Shape{64, 172, 17}, Shape{7, 4, 9}});
}

TEST_CASE("GEMM over weights split across chunks", "[gpu][kernel]") {
  // 16 * 128 * 7 bytes per plane: chunks of 112 Q4_0 rows of K = 256 (row0
  // not a multiple of the tile); 70 columns: the widest tiles.
  check_every_variant("matmul", GgmlType::Q4_0, ops::ActType::f32, {Shape{300, 256, 70}}, 16 * 128 * 7);
}

// ops::DequantF16: each weight d * q + m rounded once to fp16 (Q4_0 and
// Q8_0 exactly, since d * q + m is exact in fp32 there; Q4_1 within one
// fp16 step), every chunk's rows at their place in the plane.
TEST_CASE("dequant_f16 writes a block-type weight's fp16 plane", "[gpu][kernel]") {
  auto& dev = test::device();
  const auto t = GENERATE(GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0);
  const auto s = GENERATE(Shape{37, 160, 0}, Shape{300, 256, 0});
  // 300 rows: several chunks (16 * 128 * 7-byte planes), as the chunked GEMM test.
  const uint64_t max_plane = s.M == 300 ? 16 * 128 * 7 : 0;
  INFO(ggml_type_name(t) << " M=" << s.M << " K=" << s.K);
  const auto wfile = test::random_weights(t, s.M, s.K);
  const GpuMatrix w(dev, t, wfile.data(), s.M, s.K, max_plane);
  CHECK((w.chunks().size() > 1) == (max_plane != 0));
  Buffer plane(dev, uint64_t(s.M) * s.K * 2);
  plane.fill(0xffffffffu);  // NaN halves: anything not written shows
  CommandStream cs(dev);
  ops::DequantF16(dev, t).record(cs, w, plane);
  cs.submit_and_wait();
  std::vector<uint16_t> got(uint64_t(s.M) * s.K);
  plane.download(std::span(got));
  std::vector<float> row(s.K);
  const uint64_t rb = *ggml_row_bytes(t, s.K);
  size_t wrong = 0;
  for (uint32_t r = 0; r < s.M; ++r) {
    dequantize_row(t, wfile.data() + r * rb, row.data(), s.K);
    for (uint32_t k = 0; k < s.K; ++k) {
      const uint16_t h = got[uint64_t(r) * s.K + k];
      const float want = row[k], have = fp16_to_fp32(h);
      // Q4_1: one fp16 step at want (or fp16's subnormal step).
      const bool ok = t == GgmlType::Q4_1 ? std::fabs(have - want) <= std::ldexp(std::fabs(want), -10) + std::ldexp(1.0f, -24)
                                          : h == fp32_to_fp16(want);
      if (!ok && !wrong++) UNSCOPED_INFO("first wrong: row " << r << " k " << k << " want " << want << " got " << have);
    }
  }
  CHECK(wrong == 0);
  // Too small a plane, or another type's weight, is refused.
  Buffer small(dev, plane.size() - 2);
  CHECK_THROWS_AS(ops::DequantF16(dev, t).record(cs, w, small), InputError);
  CHECK_THROWS_AS(ops::DequantF16(dev, t == GgmlType::Q8_0 ? GgmlType::Q4_0 : GgmlType::Q8_0).record(cs, w, plane),
                  InputError);
}

// The prefill path of VKQ_PREFILL_DEQUANT: the block-type weight's fp16
// copy, then every F16 GEMM variant on fp16 activations over that plane
// (Matmul::record_plane), within the fp16-rounding bound.
TEST_CASE("GEMM on DequantF16's fp16 copy matches the CPU reference", "[gpu][kernel]") {
  const auto t = GENERATE(GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0);
  for (const auto& v : runnable(ops::matmul_op("matmul", GgmlType::F16, ops::ActType::f16))) {
    test::check_matmul(t, ops::ActType::f16, v, Shape{130, 160, 40}, 0, {}, false, true);
    test::check_matmul(t, ops::ActType::f16, v, Shape{300, 256, 70}, 16 * 128 * 7, {}, true, true);
  }
  // Only plain-type GEMMs take a plane, and only for GEMM column counts.
  auto& dev = test::device();
  Buffer plane(dev, 64 * 64 * 2), x(dev, 64 * 64 * 2), y(dev, 64 * 64 * 4);
  CommandStream cs(dev);
  CHECK_THROWS_AS(ops::Matmul(dev, GgmlType::Q4_0, ops::ActType::f16).record_plane(cs, plane, 64, 64, x, y, 16),
                  InputError);
  CHECK_THROWS_AS(ops::Matmul(dev, GgmlType::F16, ops::ActType::f16).record_plane(cs, plane, 64, 64, x, y, 4),
                  InputError);
  CHECK_THROWS_AS(ops::Matmul(dev, GgmlType::F16, ops::ActType::f16).record_plane(cs, plane, 65, 64, x, y, 16),
                  InputError);
}

TEST_CASE("a forced GEMM variant also runs n <= 8", "[gpu][kernel]") {
  check_every_variant("matmul", GgmlType::Q8_0, ops::ActType::f16, {Shape{33, 128, 1}, Shape{7, 64, 3}});
}

namespace {

// The cooperative-matrix variants (on lavapipe: the emulated one) with
// workgroup sizes and tiles that give several fragments per subgroup: the
// H100's default tile has 4 x 4, lavapipe's defaults (8 lanes, 16 subgroups
// of 128 invocations) give one. Tiles that do not fit the profile are skipped.
void check_coopmat_tiles(std::initializer_list<ops::GemmTuning> tiles, GgmlType t = GgmlType::Q4_0,
                         Shape s = Shape{130, 96, 40}) {
  auto& dev = test::device();
  const std::string op = std::string("matmul_") + (t == GgmlType::Q4_0 ? "q4_0" : t == GgmlType::Q8_0 ? "q8_0" : "f16") + "_f32";
  for (const auto& v : runnable(op)) {
    if (v.find("_coopmat") == std::string::npos) continue;
    for (const auto& tile : tiles) {
      try {
        INFO(ops::coopmat_gemm_config(dev.caps(), s.M, s.n, tile, (s.K + 31) / 32 * 32).describe());
      } catch (const InputError&) {
        continue;
      }
      ops::MatmulTuning tuning;
      tuning.gemm = tile;
      test::check_matmul(t, ops::ActType::f32, v, s, 0, tuning);
    }
  }
}

}  // namespace

TEST_CASE("cooperative-matrix GEMM with several fragments per subgroup", "[gpu][kernel]") {
  const uint32_t sg = test::device().caps().max_subgroup_size;
  check_coopmat_tiles({{4 * sg, 64, 64}, {8 * sg, 64, 64}});  // 2 x 2 and 1 x 2 fragments
}

// K deeper than one block per step (K = 192: 6 blocks, so 64 and 96 divide
// it; K = 224: 7 blocks, so a 64-deep step falls back to 32), with one or
// two shared buffers, for a type with one granule per block (Q4_0), two
// (Q8_0) and none (F16).
TEST_CASE("cooperative-matrix GEMM with deeper steps and one shared buffer", "[gpu][kernel]") {
  const uint32_t sg = test::device().caps().max_subgroup_size;
  const auto t = GENERATE(GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::F16);
  const auto K = GENERATE(192u, 224u);
  check_coopmat_tiles({{4 * sg, 64, 64, 64, 1}, {4 * sg, 32, 32, 96, 2}, {4 * sg, 32, 32, 64, 2}}, t, Shape{70, K, 40});
}

// Column-first tile order (shaders/common/gemm_tile.glsl; the KHR kernel's
// default, the cm2 kernel's with VKQ_GEMM_ORDER=cols) and row-first:
// 300 rows and 70 columns in 64 x 32 tiles (5 x 3, partial both ways), the
// weights in chunks of 112 rows, for the KHR kernel (emulated on lavapipe)
// and, where the device has it, the cm2 kernel on fp16 activations.
TEST_CASE("cooperative-matrix GEMMs in either tile order", "[gpu][kernel]") {
  auto& dev = test::device();
  const uint32_t sg = dev.caps().max_subgroup_size;
  ops::MatmulTuning tuning;
  tuning.gemm = {4 * sg, 64, 32};
  tuning.gemm.order = GENERATE(ops::GemmTuning::kColsFirst, ops::GemmTuning::kRowsFirst);
  const Shape s{300, 256, 70};
  for (const auto act : {ops::ActType::f32, ops::ActType::f16})
    for (const auto& v : runnable(ops::matmul_op("matmul", GgmlType::Q4_0, act))) {
      const bool cm2 = v.ends_with("_cm2");
      if (!cm2 && v.find("_coopmat") == std::string::npos) continue;
      try {  // check_matmul reports the config it ran
        if (cm2)
          (void)ops::cm2_gemm_config(dev.caps(), s.M, s.n, tuning.gemm);
        else
          (void)ops::coopmat_gemm_config(dev.caps(), s.M, s.n, tuning.gemm, s.K);
      } catch (const InputError&) {
        continue;  // the tile does not fit this profile
      }
      test::check_matmul(GgmlType::Q4_0, act, v, s, 16 * 128 * 7, tuning);
    }
}

// Slower to compile on lavapipe (larger register arrays): once per suite.
TEST_CASE("cooperative-matrix GEMM with wide subgroup tiles", "[gpu][kernel-full]") {
  const uint32_t sg = test::device().caps().max_subgroup_size;
  check_coopmat_tiles({{2 * sg, 64, 64}, {4 * sg, 128, 32}});  // 2 x 4 and 2 x 2 fragments, 4 x 1 subgroups
}

TEST_CASE("the GEMM runs for n > 8 and the GEMV for n <= 8", "[gpu]") {
  auto& dev = test::device();
  ops::Matmul mm(dev, GgmlType::Q4_0, ops::ActType::f32);
  CHECK(mm.variant_for(1).rfind("matvec_q4_0_f32_", 0) == 0);
  CHECK(mm.variant_for(8).rfind("matvec_q4_0_f32_", 0) == 0);
  CHECK(mm.variant_for(9) == select_variant(dev, "matmul_q4_0_f32"));
  CHECK(mm.variant_for(512).rfind("matmul_q4_0_f32_", 0) == 0);
  // A forced GEMV variant runs for every n (8 columns at a time).
  const auto gemv = runnable("matvec_q4_0_f32").back();
  CHECK(ops::Matmul(dev, GgmlType::Q4_0, ops::ActType::f32, gemv).variant_for(512) == gemv);
  CHECK(ops::Matmul(dev, GgmlType::Q4_0, ops::ActType::f32, "matmul_q4_0_f32_tiled").variant_for(1) ==
        "matmul_q4_0_f32_tiled");
}

TEST_CASE("the cooperative-matrix GEMM needs a 16x16x16 fp16 subgroup shape", "[registry]") {
  ShaderRegistry reg;
  const auto variants = op_variants(reg, "matmul_q4_0_f16");
  REQUIRE(variants ==
          std::vector<std::string>{"matmul_q4_0_f16_cm2", "matmul_q4_0_f16_coopmat", "matmul_q4_0_f16_tiled"});
  DeviceCaps c;
  c.name = "t";
  c.api_version = VK_API_VERSION_1_3;
  c.subgroup_basic = c.fp16 = c.storage16 = true;
  CHECK(reg.select(variants, c).name == "matmul_q4_0_f16_tiled");
  c.coopmat = true;
  c.coopmat_shapes.push_back({16, 8, 16, "f16", "f16", "f32", "f32", "subgroup"});
  c.coopmat_shapes.push_back({16, 16, 16, "f16", "f16", "f16", "f16", "subgroup"});
  c.coopmat_shapes.push_back({16, 16, 16, "f16", "f16", "f32", "f32", "workgroup"});
  CHECK_FALSE(caps_have_feature(c, "coopmat_f16_16"));
  CHECK(reg.select(variants, c).name == "matmul_q4_0_f16_tiled");
  CHECK(ShaderRegistry::missing_features(reg.get("matmul_q4_0_f16_coopmat"), c) == "coopmat_f16_16");
  c.coopmat_shapes.push_back({16, 16, 16, "f16", "f16", "f32", "f32", "subgroup"});
  CHECK(caps_have_feature(c, "coopmat_f16_16"));
  CHECK(reg.select(variants, c).name == "matmul_q4_0_f16_coopmat");
  c.fp16 = false;  // fp16 arithmetic masked (no-fp16): back to the tiled kernel
  CHECK(reg.select(variants, c).name == "matmul_q4_0_f16_tiled");
  c.fp16 = true;
  c.api_version = VK_API_VERSION_1_2;
  CHECK(reg.select(variants, c).name == "matmul_q4_0_f16_tiled");
}

// VK_NV_cooperative_matrix2: chosen before the KHR kernel only where the
// driver has the features matmul_cm2.comp uses and lists a workgroup-scope
// fp16 shape for a workgroup size within the limits; the profile's
// no-coopmat2 (and no-coopmat) take it away. (The kernel itself runs in the
// GEMM tests above wherever the device has it: on the H100, not lavapipe.)
TEST_CASE("the cooperative-matrix-2 GEMM needs workgroup-scope fp16 shapes", "[registry]") {
  ShaderRegistry reg;
  const auto variants = op_variants(reg, "matmul_q8_0_f16");
  REQUIRE(variants.front() == "matmul_q8_0_f16_cm2");
  // fp32 activations: no _cm2 variant (the forward pass converts them).
  for (const auto& v : op_variants(reg, "matmul_q8_0_f32")) CHECK_FALSE(v.ends_with("_cm2"));
  DeviceCaps c;
  c.name = "t";
  c.api_version = VK_API_VERSION_1_3;
  c.subgroup_basic = c.fp16 = c.storage16 = c.coopmat = true;
  c.max_workgroup_invocations = 1024;
  c.max_shared_memory = 48 * 1024;
  c.coopmat_shapes.push_back({16, 16, 16, "f16", "f16", "f32", "f32", "subgroup"});
  c.coopmat2_nv = true;
  // The H100's list (580.159.04): granularity 16 at 32 and 64 invocations,
  // 32 x 16 at 128, 32 x 32 at 256.
  c.coopmat2_shapes.push_back({16, 16, 16, "f16", "f16", "f32", "f32", "workgroup", 64});
  c.coopmat2_shapes.push_back({32, 16, 16, "f16", "f16", "f32", "f32", "workgroup", 128});
  c.coopmat2_shapes.push_back({32, 32, 16, "f16", "f16", "f32", "f32", "workgroup", 256});
  CHECK(reg.select(variants, c).name == "matmul_q8_0_f16_coopmat");  // features not all there
  c.coopmat2 = true;
  c.coopmat2_max_workgroup = 256;
  c.coopmat2_reserved_shared = 1024;
  CHECK(coopmat2_workgroup_shapes(c, "f16", "f32").size() == 3);
  CHECK(reg.select(variants, c).name == "matmul_q8_0_f16_cm2");
  CHECK(ops::cm2_gemm_config(c, 4096, 512).describe() == "tile 128x128, K 64 per step, 256 invocations (workgroup-scope matrices)");
  CHECK(ops::cm2_gemm_config(c, 4096, 40).bn == 64);
  // n = 9: 16-column tiles, which 256 invocations' 32 x 32 granularity does not divide.
  const auto small = ops::cm2_gemm_config(c, 1000, 9);
  CHECK(small.bm == 32);  // under 64 workgroups down to 32-row tiles
  CHECK(small.wg == 128);
  CHECK(ops::cm2_gemm_config(c, 4096, 512, {64}).wg == 64);
  CHECK_THROWS_AS(ops::cm2_gemm_config(c, 4096, 512, {32}), InputError);  // not a listed size
  CHECK_THROWS_AS(ops::cm2_gemm_config(c, 4096, 512, {256, 0, 16}), InputError);  // 16 columns: not at 256
  CHECK_THROWS_AS(ops::cm2_gemm_config(c, 4096, 512, {0, 24}), InputError);
  CHECK(ops::cm2_gemm_config(c, 4096, 512, {256, 256, 64, 64}).spec_constants() == std::vector<uint32_t>{256, 256, 64, 64, 0});
  ops::GemmTuning cols{256, 256, 64, 64};
  cols.order = ops::GemmTuning::kColsFirst;
  CHECK(ops::cm2_gemm_config(c, 4096, 512, cols).spec_constants().back() == 1);

  auto masked = [&](const char* profile) { return apply_device_profile(c, parse_device_profile(profile)); };
  CHECK(reg.select(variants, masked("no-coopmat2")).name == "matmul_q8_0_f16_coopmat");
  CHECK(reg.select(variants, masked("no-coopmat")).name == "matmul_q8_0_f16_tiled");
  CHECK(ops::cm2_gemm_config(masked("max-invocations=128"), 4096, 512).wg == 128);
  CHECK(reg.select(variants, masked("max-invocations=32")).name == "matmul_q8_0_f16_coopmat");
  CHECK(reg.select(variants, masked("shared-mem=512")).name != "matmul_q8_0_f16_cm2");
  CHECK(reg.select(variants, masked("no-fp16")).name == "matmul_q8_0_f16_tiled");
  // A shape only for bf16, or at subgroup scope, does not count.
  c.coopmat2_shapes = {{16, 16, 16, "bf16", "bf16", "f32", "f32", "workgroup", 256},
                       {16, 16, 16, "f16", "f16", "f32", "f32", "subgroup", 32}};
  CHECK(reg.select(variants, c).name == "matmul_q8_0_f16_coopmat");
}
