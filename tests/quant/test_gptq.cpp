// GPTQ against a direct computation of the same algorithm: no lazy batches
// (every column's error goes to all later columns at once), H^-1 formed
// explicitly and factorised, all in fp64 on a 64 x 96 layer. Plus the cases
// with known answers: a diagonal H is RTN, dead inputs, damping raised, the
// output error below RTN's, and results that do not depend on threads or
// on the kernel build.
#include <algorithm>
#include <numeric>
#include <vector>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>

#include "block_grid.hpp"
#include "gptq.hpp"
#include "gram.hpp"
#include "kernels.hpp"
#include "quant_blocks.hpp"
#include "rtn.hpp"
#include "support/gpu.hpp"

using namespace vkq;
using namespace vkq::quant;
using Eigen::MatrixXd;

namespace {

// The algorithm as written in the GPTQ paper, with GGUF block grids.
std::vector<uint8_t> reference_gptq(const std::vector<float>& W, uint64_t rows, uint64_t cols, MatrixXd H,
                                    GgmlType type, bool act_order, double damp) {
  std::vector<bool> dead(cols);
  for (uint64_t i = 0; i < cols; ++i)
    if (H(i, i) == 0) {
      dead[i] = true;
      H(i, i) = 1;
    }
  std::vector<uint32_t> perm(cols);
  std::iota(perm.begin(), perm.end(), 0u);
  if (act_order) std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) { return H(a, a) > H(b, b); });
  std::vector<uint32_t> pos(cols);
  for (uint64_t p = 0; p < cols; ++p) pos[perm[p]] = uint32_t(p);
  MatrixXd Hp(cols, cols), Wp(rows, cols);
  for (uint64_t i = 0; i < cols; ++i)
    for (uint64_t j = 0; j < cols; ++j) Hp(i, j) = H(perm[i], perm[j]);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t p = 0; p < cols; ++p) Wp(r, p) = dead[perm[p]] ? 0.0 : double(W[r * cols + perm[p]]);
  Hp.diagonal().array() += damp * Hp.diagonal().mean();
  const MatrixXd Hinv = Hp.inverse();
  const MatrixXd U = Hinv.llt().matrixU();  // Hinv = U^T U

  const uint64_t nb = cols / kQK;
  std::vector<BlockGrid> grid(rows * nb);
  std::vector<bool> have(nb);
  std::vector<int> code(rows * cols);
  for (uint64_t p = 0; p < cols; ++p) {
    const uint32_t c = perm[p];
    const uint64_t b = c / kQK;
    if (!have[b]) {
      for (uint64_t r = 0; r < rows; ++r) {
        float v[kQK];
        for (uint32_t k = 0; k < kQK; ++k) v[k] = float(Wp(r, pos[b * kQK + k]));
        grid[r * nb + b] = block_grid(type, v);
      }
      have[b] = true;
    }
    for (uint64_t r = 0; r < rows; ++r) {
      const BlockGrid& g = grid[r * nb + b];
      const int q = quantize_value(type, g, float(Wp(r, p)));
      code[r * cols + c] = q;
      const double err = (Wp(r, p) - double(dequantize_value(type, g, q))) / U(p, p);
      for (uint64_t j = p + 1; j < cols; ++j) Wp(r, j) -= err * U(p, j);
    }
  }
  const uint64_t rb = *ggml_row_bytes(type, cols), bb = ggml_type_info(type).block_bytes;
  std::vector<uint8_t> out(rows * rb);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t b = 0; b < nb; ++b) pack_block(type, grid[r * nb + b], &code[r * cols + b * kQK], out.data() + r * rb + b * bb);
  return out;
}

// Correlated inputs: 4 shared factors plus noise, a few large channels.
std::vector<float> correlated_inputs(uint64_t n, uint64_t cols) {
  const auto f = vkq::test::random_floats(n * 4);
  const auto load = vkq::test::random_floats(4 * cols);
  const auto noise = vkq::test::random_floats(n * cols, -0.3f, 0.3f);
  std::vector<float> x(n * cols);
  for (uint64_t t = 0; t < n; ++t)
    for (uint64_t j = 0; j < cols; ++j) {
      float v = noise[t * cols + j];
      for (int k = 0; k < 4; ++k) v += f[t * 4 + k] * load[k * cols + j];
      x[t * cols + j] = v * (j % 17 == 3 ? 6.0f : 1.0f);
    }
  return x;
}

MatrixXd hessian_of(const std::vector<float>& x, uint64_t cols) {
  Gram g(cols);
  g.add(x.data(), x.size() / cols);
  return g.hessian();
}

}  // namespace

TEST_CASE("GPTQ matches a direct fp64 computation on a 64 x 96 layer", "[quant][gptq]") {
  const uint64_t rows = 64, cols = 96;
  const auto W = vkq::test::random_floats(rows * cols);
  const auto x = correlated_inputs(2048, cols);
  const MatrixXd H = hessian_of(x, cols);
  for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0})
    for (const bool act_order : {false, true})
      for (const uint32_t batch : {32u, 64u, 128u}) {
        INFO(ggml_type_name(type) << (act_order ? " act-order" : "") << " batch " << batch);
        const auto want = reference_gptq(W, rows, cols, H, type, act_order, 0.01);
        for (const kernels::Table* k : {&kernels::generic_table(), &kernels::table()}) {
          INFO("kernels " << k->name);
          const auto r = gptq_quantize(W, rows, cols, H,
                                       {.type = type, .act_order = act_order, .batch = batch, .kernels = k});
          CHECK(r.q.data == want);
          CHECK(r.warning.empty());
          // The dequantized weights are what the bytes say.
          std::vector<float> deq(rows * cols);
          for (uint64_t i = 0; i < rows; ++i)
            dequantize_row(type, r.q.data.data() + i * *ggml_row_bytes(type, cols), deq.data() + i * cols, cols);
          CHECK(deq == r.q.weights);
        }
      }
}

TEST_CASE("GPTQ with a diagonal H is RTN, bit for bit", "[quant][gptq]") {
  const uint64_t rows = 16, cols = 64;
  const auto W = vkq::test::random_floats(rows * cols);
  MatrixXd H = MatrixXd::Zero(cols, cols);
  for (uint64_t i = 0; i < cols; ++i) H(i, i) = 0.5 + double(i % 5);
  for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0})
    for (const bool act_order : {false, true}) {
      INFO(ggml_type_name(type));
      CHECK(gptq_quantize(W, rows, cols, H, {.type = type, .act_order = act_order}).q.data ==
            quantize_rtn(type, W, rows, cols).data);
    }
}

TEST_CASE("GPTQ lowers the output error on correlated inputs", "[quant][gptq]") {
  const uint64_t rows = 48, cols = 128;
  const auto W = vkq::test::random_floats(rows * cols);
  const auto x = correlated_inputs(4096, cols);
  Gram g(cols);
  g.add(x.data(), 4096);
  const MatrixXd G = g.sum();
  for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0}) {
    INFO(ggml_type_name(type));
    const auto r = gptq_quantize(W, rows, cols, g.hessian(), {.type = type});
    const double e = output_sse(G, W, r.q.weights, rows, cols);
    const double e_rtn = output_sse(G, W, quantize_rtn(type, W, rows, cols).weights, rows, cols);
    CHECK(e < 0.8 * e_rtn);
  }
}

TEST_CASE("GPTQ: dead inputs are zeroed, damping is raised when H does not factorise", "[quant][gptq]") {
  const uint64_t rows = 8, cols = 64;
  const auto W = vkq::test::random_floats(rows * cols);
  auto x = correlated_inputs(512, cols);
  for (uint64_t t = 0; t < 512; ++t) x[t * cols + 5] = 0;  // input 5 never fires
  const auto r = gptq_quantize(W, rows, cols, hessian_of(x, cols), {.type = GgmlType::Q8_0});
  for (uint64_t i = 0; i < rows; ++i) CHECK(r.q.weights[i * cols + 5] == 0.0f);

  // One negative eigenvalue of 5% of the mean diagonal: 1% damping cannot
  // lift it, 10% can.
  MatrixXd H = MatrixXd::Identity(cols, cols);
  H(7, 7) = -0.05 * double(cols - 1) / (double(cols) + 0.05);  // -5% of the mean diagonal
  const auto d = gptq_quantize(W, rows, cols, H, {.type = GgmlType::Q4_0});
  CHECK(d.damp == Catch::Approx(0.1));
  CHECK(d.warning == "the Hessian did not factorise with 1% damping; used 10%");
  CHECK_THROWS(gptq_quantize(W, rows, cols, MatrixXd::Constant(cols, cols, std::nan("")), {.type = GgmlType::Q4_0}));
}

TEST_CASE("GPTQ and the Gram matrix do not depend on the thread count", "[quant][gptq]") {
  const uint64_t rows = 600, cols = 320;  // 3 row slices, 2 Gram panels
  const auto W = vkq::test::random_floats(rows * cols);
  const auto x = correlated_inputs(2500, cols);  // 3 Gram chunks, the last one partial
  Gram g1(cols), g4(cols);
  g1.add(x.data(), 2500, 1);
  g4.add(x.data(), 2500, 4);
  REQUIRE(g1.sum() == g4.sum());
  const MatrixXd H = g1.hessian();
  const auto a = gptq_quantize(W, rows, cols, H, {.type = GgmlType::Q4_0, .threads = 1});
  const auto b = gptq_quantize(W, rows, cols, H, {.type = GgmlType::Q4_0, .threads = 4});
  CHECK(a.q.data == b.q.data);
  CHECK(a.q.weights == b.q.weights);
}

TEST_CASE("Gram: sums, Hessian and mean |x| against direct sums", "[quant][gptq]") {
  const uint64_t n = 1500, d = 300;
  const auto x = vkq::test::random_floats(n * d);
  Gram g(d);
  g.add(x.data(), 1000);
  g.add(x.data() + 1000 * d, 500);  // in two calls
  const MatrixXd G = g.sum();
  REQUIRE(g.count() == n);
  const auto am = g.abs_mean();
  for (const auto& [i, j] : std::vector<std::pair<int, int>>{{0, 0}, {5, 17}, {17, 5}, {299, 0}, {256, 255}, {299, 299}}) {
    double s = 0;
    for (uint64_t t = 0; t < n; ++t) s += double(x[t * d + i]) * double(x[t * d + j]);
    CHECK(std::abs(G(i, j) - s) <= 1e-4 * std::max(1.0, std::abs(s)));
    CHECK(g.hessian()(i, j) == G(i, j) * (2.0 / double(n)));
  }
  double s = 0;
  for (uint64_t t = 0; t < n; ++t) s += std::abs(double(x[t * d + 7]));
  CHECK(std::abs(am[7] - s / double(n)) < 1e-12);
}
