#include <algorithm>
#include <cctype>
#include <cmath>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "gpu_weights.hpp"
#include "ops/matmul.hpp"
#include "quant_blocks.hpp"
#include "support/gpu.hpp"
#include "variant_select.hpp"

using namespace vkq;

namespace {

struct Shape {
  uint32_t M, K, n;
};

// Random weights quantized to `t` in GGUF layout (as a file would hold them).
std::vector<uint8_t> random_weights(GgmlType t, uint32_t M, uint32_t K) {
  const uint64_t rb = *ggml_row_bytes(t, K);
  std::vector<uint8_t> w(rb * M);
  const auto f = test::random_floats(uint64_t(M) * K);
  for (uint32_t r = 0; r < M; ++r) quantize_row(t, f.data() + uint64_t(r) * K, w.data() + r * rb, K);
  return w;
}

// Runs Y = W X on the GPU with `variant` and checks against the fp64 CPU
// reference. Tolerance: fp32 accumulation of K products; the error is bounded
// relative to sum_k |w_k x_k| (S): |y - ref| <= 1e-5 * sqrt(K) * S / 4 + 1e-6.
// The same bound holds for every weight type because the reference uses the
// same dequantized weights (and, for fp16 activations, the same fp16-rounded x).
// Integer-dot variants also round x to 8 bits per 32-block (d = amax / 127),
// adding at most sum_k |w_k| * amax(block of k) / 254.
void check_matmul(GgmlType t, ops::ActType act, const std::string& variant, Shape s, uint64_t max_plane = 0) {
  auto& dev = test::device();
  INFO(ggml_type_name(t) << " act " << (act == ops::ActType::f16 ? "f16" : "f32") << " variant " << variant << " M=" << s.M
                         << " K=" << s.K << " n=" << s.n);
  const auto wfile = random_weights(t, s.M, s.K);
  auto x = test::random_floats(uint64_t(s.n) * s.K);
  std::vector<uint8_t> xbytes;
  if (act == ops::ActType::f16) {
    std::vector<uint16_t> h(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      h[i] = fp32_to_fp16(x[i]);
      x[i] = fp16_to_fp32(h[i]);
    }
    xbytes.assign(reinterpret_cast<uint8_t*>(h.data()), reinterpret_cast<uint8_t*>(h.data() + h.size()));
  } else {
    xbytes.assign(reinterpret_cast<uint8_t*>(x.data()), reinterpret_cast<uint8_t*>(x.data() + x.size()));
  }
  std::vector<float> ref(uint64_t(s.n) * s.M), out(ref.size());
  ops::matmul_ref(t, wfile.data(), s.M, s.K, x.data(), s.n, s.K, ref.data());
  // S per output, from the dequantized weights.
  std::vector<double> bound(ref.size());
  std::vector<float> row(s.K);
  const uint64_t rb = *ggml_row_bytes(t, s.K);
  for (uint32_t i = 0; i < s.M; ++i) {
    dequantize_row(t, wfile.data() + i * rb, row.data(), s.K);
    const bool idot = variant.find("_idot") != std::string::npos;
    for (uint32_t j = 0; j < s.n; ++j) {
      double a = 0, q = 0;
      const float* xj = x.data() + uint64_t(j) * s.K;
      for (uint32_t k = 0; k < s.K; ++k) a += std::fabs(double(row[k]) * xj[k]);
      if (idot) {
        for (uint32_t b = 0; b < s.K / 32; ++b) {
          double amax = 0, wsum = 0;
          for (uint32_t k = b * 32; k < b * 32 + 32; ++k) {
            amax = std::max(amax, double(std::fabs(xj[k])));
            wsum += std::fabs(double(row[k]));
          }
          q += wsum * amax / 254;
        }
      }
      bound[uint64_t(j) * s.M + i] = 1e-5 * std::sqrt(double(s.K)) * a / 4 + 1e-6 + q * 1.01;
    }
  }

  GpuMatrix w(dev, t, wfile.data(), s.M, s.K, max_plane);
  Buffer bx(dev, xbytes.size()), by(dev, ref.size() * 4);
  bx.upload(xbytes.data(), xbytes.size());
  by.fill(test::kPoison);
  ops::Matmul mm(dev, t, act, variant);
  CommandStream cs(dev);
  mm.record(cs, w, bx, by, s.n);
  cs.submit_and_wait();
  by.download(std::span<float>(out));
  double worst = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    REQUIRE(!std::isnan(out[i]));  // every output written
    worst = std::max(worst, std::fabs(double(out[i]) - ref[i]) / bound[i]);
  }
  INFO("worst error / tolerance = " << worst);
  CHECK(worst <= 1.0);
}

std::vector<std::string> runnable(const std::string& op) {
  auto& dev = test::device();
  std::vector<std::string> out;
  for (const auto& v : op_variants(dev.shaders(), op))
    if (ShaderRegistry::missing_features(dev.shaders().get(v), dev.caps()).empty()) out.push_back(v);
  return out;
}

}  // namespace

std::string gemv_op(GgmlType t, ops::ActType act) {
  std::string name = ggml_type_name(t);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return "matvec_" + name + (act == ops::ActType::f16 ? "_f16" : "_f32");
}

// Every shape of the issue on every runnable variant: run once per suite
// (lavapipe compiles each pipeline with LLVM, seconds each).
TEST_CASE("GEMV matches the CPU reference for every type, activation type, variant and shape", "[gpu][kernel-full]") {
  const auto t = GENERATE(GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0, GgmlType::F16, GgmlType::BF16, GgmlType::F32);
  const auto act = GENERATE(ops::ActType::f32, ops::ActType::f16);
  const auto s = GENERATE(Shape{1, 32, 1}, Shape{7, 64, 2}, Shape{33, 4096, 3}, Shape{1000, 512, 7},
                          Shape{33, 14336, 8}, Shape{7, 1024, 9}, Shape{130, 256, 17});
  const auto variants = runnable(gemv_op(t, act));
  REQUIRE(!variants.empty());
  for (const auto& v : variants) check_matmul(t, act, v, s);
}

// The same on two shapes, re-run under each profile and subgroup size.
TEST_CASE("GEMV matches the CPU reference under the device profile", "[gpu][kernel]") {
  const auto t = GENERATE(GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0, GgmlType::F16, GgmlType::BF16, GgmlType::F32);
  const auto act = GENERATE(ops::ActType::f32, ops::ActType::f16);
  const auto variants = runnable(gemv_op(t, act));
  REQUIRE(!variants.empty());
  // The selector's choice must be one the device can run.
  const auto chosen = select_variant(test::device(), gemv_op(t, act));
  CHECK(std::find(variants.begin(), variants.end(), chosen) != variants.end());
  for (const auto& v : variants) {
    check_matmul(t, act, v, Shape{33, 1024, 1});
    check_matmul(t, act, v, Shape{7, 64, 3});
  }
}

TEST_CASE("plain-type weights with K not a multiple of 32 (stories260K's 172)", "[gpu][kernel]") {
  const auto t = GENERATE(GgmlType::F32, GgmlType::F16);
  for (const auto& v : runnable(gemv_op(t, ops::ActType::f32))) {
    check_matmul(t, ops::ActType::f32, v, Shape{64, 172, 1});
    check_matmul(t, ops::ActType::f32, v, Shape{7, 4, 3});
  }
}

TEST_CASE("weights split across chunks give the same result", "[gpu][kernel]") {
  for (const auto& v : runnable("matvec_q4_0_f32")) check_matmul(GgmlType::Q4_0, ops::ActType::f32, v, Shape{100, 256, 2}, 16 * 128 * 7);
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
