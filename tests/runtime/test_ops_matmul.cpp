#include <algorithm>
#include <cmath>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/generators/catch_generators_range.hpp>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "gpu_weights.hpp"
#include "ops/matmul.hpp"
#include "quant_blocks.hpp"
#include "support/gpu.hpp"
#include "support/matmul_check.hpp"
#include "variant_select.hpp"

using namespace vkq;

using test::check_every_variant;
using Shape = test::MatmulShape;
using Catch::Generators::from_range;

// Every shape of the issue on every runnable variant: run once per suite
// (lavapipe compiles each pipeline with LLVM, seconds each).
TEST_CASE("GEMV matches the CPU reference for every type, activation type, variant and shape", "[gpu][kernel-full]") {
  const auto t = GENERATE(from_range(test::matmul_weight_types()));
  const auto act = GENERATE(ops::ActType::f32, ops::ActType::f16);
  const auto s = GENERATE(Shape{1, 32, 1}, Shape{7, 64, 2}, Shape{33, 4096, 3}, Shape{1000, 512, 7},
                          Shape{33, 14336, 8}, Shape{7, 1024, 9}, Shape{130, 256, 17});
  check_every_variant("matvec", t, act, {s});
}

// The same on two shapes, re-run under each profile and subgroup size.
TEST_CASE("GEMV matches the CPU reference under the device profile", "[gpu][kernel]") {
  const auto t = GENERATE(from_range(test::matmul_weight_types()));
  const auto act = GENERATE(ops::ActType::f32, ops::ActType::f16);
  check_every_variant("matvec", t, act, {Shape{33, 1024, 1}, Shape{7, 64, 3}});
}

TEST_CASE("plain-type weights with K not a multiple of 32 (stories260K's 172)", "[gpu][kernel]") {
  const auto t = GENERATE(GgmlType::F32, GgmlType::F16);
  check_every_variant("matvec", t, ops::ActType::f32, {Shape{64, 172, 1}, Shape{7, 4, 3}});
}

TEST_CASE("weights split across chunks give the same result", "[gpu][kernel]") {
  check_every_variant("matvec", GgmlType::Q4_0, ops::ActType::f32, {Shape{100, 256, 2}}, 16 * 128 * 7);
}

TEST_CASE("a weight over 128 MiB is split under maxStorageBufferRange", "[gpu][kernel-full]") {
  auto& dev = test::device();
  // 8200 x 4096 fp32 = 134 MB > 128 MiB (lavapipe's and many phones' limit).
  const uint32_t M = 8200, K = 4096;
  auto wf = test::random_floats(uint64_t(M) * K);
  GpuMatrix w(dev, GgmlType::F32, wf.data(), M, K);
  CHECK(uint64_t(M) * K * 4 > (128ull << 20));
  for (const auto& c : w.chunks()) CHECK(c.quants.size() <= dev.caps().max_storage_buffer_range);
  if (dev.caps().max_storage_buffer_range < uint64_t(M) * K * 4) CHECK(w.chunks().size() >= 2);
  const auto x = test::random_floats(K * 2);
  std::vector<float> ref(M * 2), out(M * 2);
  ops::matmul_ref(GgmlType::F32, wf.data(), M, K, x.data(), 2, K, ref.data());
  Buffer bx(dev, x.size() * 4), by(dev, out.size() * 4);
  bx.upload(std::span<const float>(x));
  by.fill(test::kPoison);
  ops::Matmul mm(dev, GgmlType::F32, ops::ActType::f32);
  CommandStream cs(dev);
  mm.record(cs, w, bx, by, 2);
  cs.submit_and_wait();
  by.download(std::span<float>(out));
  for (size_t i = 0; i < out.size(); ++i) REQUIRE(std::fabs(out[i] - ref[i]) <= 1e-3);
}

TEST_CASE("GEMV and GEMM accumulate into Y (the fused residual add)", "[gpu][kernel]") {
  using namespace vkq;
  const auto act = GENERATE(ops::ActType::f32, ops::ActType::f16);
  for (const auto t : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::F16}) {
    for (const char* kind : {"matvec", "matmul"}) {
      for (const auto& v : test::runnable(ops::matmul_op(kind, t, act))) {
        // n = 3 for the GEMV, 40 for the GEMM (partial tiles in both).
        test::check_matmul(t, act, v, {std::string(kind) == "matvec" ? test::MatmulShape{37, 256, 3} : test::MatmulShape{70, 128, 40}},
                           0, {}, true);
      }
    }
  }
}
