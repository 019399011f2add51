#include "support/matmul_check.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <catch2/catch_test_macros.hpp>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "gpu_weights.hpp"
#include "quant_blocks.hpp"
#include "support/gpu.hpp"
#include "variant_select.hpp"

namespace vkq::test {

std::vector<uint8_t> random_weights(GgmlType t, uint32_t M, uint32_t K) {
  const uint64_t rb = *ggml_row_bytes(t, K);
  std::vector<uint8_t> w(rb * M);
  const auto f = random_floats(uint64_t(M) * K);
  for (uint32_t r = 0; r < M; ++r) quantize_row(t, f.data() + uint64_t(r) * K, w.data() + r * rb, K);
  return w;
}

// Tolerance per output y = sum_k w_k x_k, relative to S = sum_k |w_k x_k|:
// - fp32 accumulation of K products (every variant):
//     1e-5 * sqrt(K) * S / 4 + 1e-6.
//   The same bound holds for every weight type because the reference uses
//   the same dequantized weights (and, for fp16 activations, the same
//   fp16-rounded x).
// - integer-dot variants (_idot) also round x to 8 bits per 32-block
//   (d = amax / 127), adding at most sum_k |w_k| * amax(block of k) / 254.
// - cooperative-matrix variants (_coopmat, _cm2) round w and x to fp16: at most
//   2^-11 relative each, so 2^-10 S (+ 2^-22 S) per product, doubled for the
//   tensor cores' fp32 accumulation (whose rounding is the hardware's), plus
//   2^-24 sum_k (|w_k| + |x_k|) for values in fp16's subnormal range
//   (absolute error up to 2^-25 each).
void check_matmul(GgmlType t, ops::ActType act, const std::string& variant, MatmulShape s, uint64_t max_plane,
                  const ops::MatmulTuning& tuning, bool accumulate, bool dequantized) {
  auto& dev = device();
  INFO(ggml_type_name(t) << " act " << (act == ops::ActType::f16 ? "f16" : "f32") << " variant " << variant << " M=" << s.M
                         << " K=" << s.K << " n=" << s.n << (accumulate ? " accumulate" : ""));
  const auto wfile = random_weights(t, s.M, s.K);
  auto x = random_floats(uint64_t(s.n) * s.K);
  const auto xbytes = ops::activation_bytes(x, act);
  std::vector<float> ref(uint64_t(s.n) * s.M), out(ref.size());
  ops::matmul_ref(t, wfile.data(), s.M, s.K, x.data(), s.n, s.K, ref.data());

  ops::Matmul mm(dev, dequantized ? GgmlType::F16 : t, act, variant, tuning);
  const std::string ran = (dequantized ? ops::dequant_op(t) + "+" : std::string()) + mm.variant_for(s.n);
  INFO("ran " << ran << " (" << mm.config_for(s.M, s.K, s.n) << ")");
  const bool idot = ran.find("_idot") != std::string::npos;
  const bool coopmat = ops::gemm_rounds_to_fp16(ran);
  std::vector<double> bound(ref.size());
  std::vector<float> row(s.K);
  const uint64_t rb = *ggml_row_bytes(t, s.K);
  for (uint32_t i = 0; i < s.M; ++i) {
    dequantize_row(t, wfile.data() + i * rb, row.data(), s.K);
    for (uint32_t j = 0; j < s.n; ++j) {
      double a = 0, q = 0, mags = 0;
      const float* xj = x.data() + uint64_t(j) * s.K;
      for (uint32_t k = 0; k < s.K; ++k) {
        a += std::fabs(double(row[k]) * xj[k]);
        mags += std::fabs(double(row[k])) + std::fabs(double(xj[k]));
      }
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
      double b = 1e-5 * std::sqrt(double(s.K)) * a / 4 + 1e-6 + q * 1.01;
      if (coopmat) b += 2 * (std::ldexp(1.0, -10) + std::ldexp(1.0, -22)) * a + std::ldexp(1.0, -24) * mags;
      bound[uint64_t(j) * s.M + i] = b;
    }
  }

  GpuMatrix w(dev, t, wfile.data(), s.M, s.K, max_plane);
  Buffer bx(dev, xbytes.size()), by(dev, ref.size() * 4);
  bx.upload(xbytes.data(), xbytes.size());
  if (accumulate) {
    // Y0 + W X: one more fp32 rounding of the sum.
    const auto y0 = random_floats(ref.size());
    by.upload(std::span<const float>(y0));
    for (size_t i = 0; i < ref.size(); ++i) {
      ref[i] += y0[i];
      bound[i] += std::ldexp(std::fabs(double(ref[i])), -23);
    }
  } else {
    by.fill(kPoison);
  }
  CommandStream cs(dev);
  Buffer plane;
  if (dequantized) {
    plane = Buffer(dev, uint64_t(s.M) * quant_row_bytes(GgmlType::F16, s.K));
    ops::DequantF16(dev, t).record(cs, w, plane);
    cs.barrier();
    mm.record_plane(cs, plane, s.M, s.K, bx, by, s.n, 0, 0, accumulate);
  } else {
    mm.record(cs, w, bx, by, s.n, 0, 0, 0, accumulate);
  }
  cs.submit_and_wait();
  by.download(std::span<float>(out));
  double worst = 0;
  size_t worst_at = 0, unwritten = 0, first_unwritten = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::isnan(out[i])) {  // poison left: an output the kernel did not write
      if (!unwritten++) first_unwritten = i;
      continue;
    }
    const double e = std::fabs(double(out[i]) - ref[i]) / bound[i];
    if (e > worst) {
      worst = e;
      worst_at = i;
    }
  }
  INFO("first unwritten output: row " << first_unwritten % s.M << " column " << first_unwritten / s.M);
  CHECK(unwritten == 0);
  INFO("worst error / tolerance = " << worst << " at row " << worst_at % s.M << " column " << worst_at / s.M);
  CHECK(worst <= 1.0);
}

void check_every_variant(const char* kind, GgmlType t, ops::ActType act, std::initializer_list<MatmulShape> shapes,
                         uint64_t max_plane) {
  const std::string op = ops::matmul_op(kind, t, act);
  const auto variants = runnable(op);
  REQUIRE(!variants.empty());
  const auto chosen = select_variant(device(), op);
  CHECK(std::find(variants.begin(), variants.end(), chosen) != variants.end());
  for (const auto& v : variants)
    for (const auto& s : shapes) check_matmul(t, act, v, s, max_plane);
}

const std::vector<GgmlType>& matmul_weight_types() {
  static const std::vector<GgmlType> types = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0,
                                              GgmlType::F16,  GgmlType::BF16, GgmlType::F32};
  return types;
}

std::vector<std::string> runnable(const std::string& op) {
  auto& dev = device();
  std::vector<std::string> out;
  for (const auto& v : op_variants(dev.shaders(), op))
    if (ShaderRegistry::missing_features(dev.shaders().get(v), dev.caps()).empty()) out.push_back(v);
  return out;
}

}  // namespace vkq::test
