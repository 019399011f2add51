// CPU references of the llama ops (ops/llama_ops_ref.hpp) on hand-computed
// cases: RoPE's convention, GQA head mapping, causal mask, norms.
#include <cmath>
#include <vector>

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "error.hpp"
#include "ops/llama_ops_ref.hpp"
#include "quant_blocks.hpp"
#include "support/gpu.hpp"

using Catch::Approx;
using Catch::Matchers::ContainsSubstring;
using vkq::GgmlType;
using vkq::TensorView;

TEST_CASE("rmsnorm_ref: x / rms(x) * weight per row", "[ops][llama]") {
  const std::vector<float> x = {3, 4, 0, 2}, w = {1, 2};
  std::vector<float> out(4);
  vkq::ops::rmsnorm_ref(x, w, 0.0f, out);
  const double r0 = std::sqrt(12.5), r1 = std::sqrt(2.0);
  CHECK(out[0] == Approx(3 / r0));
  CHECK(out[1] == Approx(8 / r0));
  CHECK(out[2] == 0.0f);
  CHECK(out[3] == Approx(4 / r1));
  std::vector<float> three(3);
  CHECK_THROWS_AS(vkq::ops::rmsnorm_ref(three, w, 0.0f, three), vkq::InputError);
}

TEST_CASE("rope_ref: adjacent pairs, theta = pos * base^(-2i/rope_dims)", "[ops][llama]") {
  std::vector<float> x = {1, 0, 1, 0};  // one head of 4
  vkq::ops::rope_ref(x, 4, 4, 1, 10000.0f);
  CHECK(x[0] == Approx(std::cos(1.0)));
  CHECK(x[1] == Approx(std::sin(1.0)));
  CHECK(x[2] == Approx(std::cos(0.01)));  // 10000^(-2/4)
  CHECK(x[3] == Approx(std::sin(0.01)));

  // Two heads, rope over the first 2 of 4 dims only: the rest is untouched.
  std::vector<float> y = {0, 1, 5, 6, 0, 1, 7, 8};
  vkq::ops::rope_ref(y, 4, 2, 3, 10000.0f);
  for (int h = 0; h < 2; ++h) {
    CHECK(y[4 * h + 0] == Approx(-std::sin(3.0)));
    CHECK(y[4 * h + 1] == Approx(std::cos(3.0)));
  }
  CHECK(y[2] == 5);
  CHECK(y[3] == 6);
  CHECK(y[6] == 7);
  CHECK(y[7] == 8);

  // Frequency factors divide theta (Llama 3.1's rope_freqs).
  std::vector<float> z = {1, 0, 1, 0};
  const std::vector<float> ff = {2, 4};
  vkq::ops::rope_ref(z, 4, 4, 1, 10000.0f, ff);
  CHECK(z[1] == Approx(std::sin(0.5)));
  CHECK(z[3] == Approx(std::sin(0.0025)));

  // Position 0 is the identity; scores depend only on the distance.
  auto q = vkq::test::random_floats(8), k = vkq::test::random_floats(8);
  auto at = [&](std::vector<float> v, uint32_t pos) {
    vkq::ops::rope_ref(v, 8, 8, pos, 10000.0f);
    return v;
  };
  CHECK(at(q, 0) == q);
  auto dot = [](const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
    return s;
  };
  CHECK(dot(at(q, 7), at(k, 3)) == Approx(dot(at(q, 104), at(k, 100))).margin(1e-5));
}

TEST_CASE("attention_ref: GQA head mapping and the causal mask", "[ops][llama]") {
  // 4 query heads over 2 kv heads of dim 2: heads 0, 1 read kv head 0; 2, 3 kv head 1.
  const vkq::ops::AttentionShape shape{4, 2, 2};
  const std::vector<float> q(8, 0.5f);
  const std::vector<float> k = {1, 1, 1, 1, 9, 9, 9, 9}, v = {1, 2, 3, 4, 100, 100, 100, 100};
  std::vector<float> out(8);
  // One token at position 0: only cache row 0 is visible, so out = v[0].
  vkq::ops::attention_ref(shape, q, 0, k, v, out);
  CHECK(out == std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4});

  // Two tokens at positions 0 and 1: token 0 still sees row 0 only; token 1
  // with equal keys averages the two rows.
  const std::vector<float> q2(16, 0.0f);
  std::vector<float> out2(16);
  vkq::ops::attention_ref(shape, q2, 0, k, v, out2);
  CHECK(std::vector<float>(out2.begin(), out2.begin() + 8) == std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4});
  CHECK(out2[8] == Approx(50.5));
  CHECK(out2[15] == Approx(52));

  // Softmax weights from q . k / sqrt(head_dim).
  const std::vector<float> k3 = {1, 0, 0, 0, 0, 0, 0, 0}, v3 = {1, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<float> q3 = {2, 0, 0, 0, 0, 0, 0, 0};
  vkq::ops::attention_ref(shape, q3, 1, k3, v3, out);  // position 1: rows 0 and 1
  const double e = std::exp(2 / std::sqrt(2.0));
  CHECK(out[0] == Approx(e / (e + 1)));
  CHECK_THROWS_WITH(vkq::ops::attention_ref(shape, q3, 2, k3, v3, out), ContainsSubstring("start_pos + n rows"));
}

TEST_CASE("linear_ref: y = x W^T over dequantized rows, any type", "[ops][llama]") {
  const uint32_t cols = 64, rows = 3, n = 2;
  const auto wf = vkq::test::random_floats(rows * cols), x = vkq::test::random_floats(n * cols);
  for (const auto type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1}) {
    INFO(vkq::ggml_type_name(type));
    const auto rb = *vkq::ggml_row_bytes(type, cols);
    std::vector<uint8_t> blocks(rows * rb);
    for (uint32_t r = 0; r < rows; ++r) vkq::quantize_row(type, wf.data() + r * cols, blocks.data() + r * rb, cols);
    const auto w = TensorView::make("w", type, cols, rows, blocks.data());
    const auto deq = w.to_floats();
    std::vector<float> y(n * rows);
    vkq::ops::linear_ref(w, x, y);
    for (uint32_t t = 0; t < n; ++t)
      for (uint32_t i = 0; i < rows; ++i) {
        double s = 0;
        for (uint32_t c = 0; c < cols; ++c) s += double(deq[i * cols + c]) * x[t * cols + c];
        CHECK(y[t * rows + i] == Approx(s).epsilon(1e-6).margin(1e-6));
      }
  }
  CHECK_THROWS_AS(TensorView::make("odd", GgmlType::Q8_0, 172, 1, nullptr), vkq::InputError);
  const std::vector<float> odd(172 * 2, 1.0f);  // 172 columns work in plain types
  std::vector<float> y(2);
  vkq::ops::linear_ref(TensorView::make("w", GgmlType::F32, 172, 2, odd.data()), std::vector<float>(172, 0.5f), y);
  CHECK(y == std::vector<float>{86, 86});
}

TEST_CASE("embed_ref and swiglu_ref", "[ops][llama]") {
  const std::vector<float> table = {0, 1, 10, 11, 20, 21};
  const auto t = TensorView::make("token_embd.weight", GgmlType::F32, 2, 3, table.data());
  std::vector<float> out(4);
  vkq::ops::embed_ref(t, std::vector<int32_t>{2, 0}, out);
  CHECK(out == std::vector<float>{20, 21, 0, 1});
  CHECK_THROWS_WITH(vkq::ops::embed_ref(t, std::vector<int32_t>{3}, std::span(out).first(2)),
                    ContainsSubstring("token id 3 is outside the vocabulary of 3 tokens"));

  const std::vector<float> g = {0, 1, -20, 30}, u = {5, 2, 1, 0.5f};
  std::vector<float> s(4);
  vkq::ops::swiglu_ref(g, u, s);
  CHECK(s[0] == 0);
  CHECK(s[1] == Approx(2 / (1 + std::exp(-1.0))));
  CHECK(s[2] == Approx(0).margin(1e-7));
  CHECK(s[3] == Approx(15));
}
