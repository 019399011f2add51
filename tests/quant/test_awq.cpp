// AWQ: the scale search and the clipping search on synthetic layers, and the
// folding of the scales into the model (norms, v's rows, up's rows), which
// must leave an F32 model computing the same logits, up to fp32 rounding:
// on stories260K (grouped-query attention: no v -> o fold; FFN down rows of
// 172 stay F16: no up -> down fold) and on a small synthetic model where
// every fold applies.
#include <cmath>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "awq.hpp"
#include "byte_sink.hpp"
#include "cpu_forward.hpp"
#include "gram.hpp"
#include "pipeline.hpp"
#include "quant_blocks.hpp"
#include "rtn.hpp"
#include "support/gguf_builder.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"
#include "synth.hpp"
#include "tensor_plan.hpp"

using namespace vkq;
using namespace vkq::quant;

namespace {

// Inputs whose channels differ in size by up to 30x, as activations do.
std::vector<float> uneven_inputs(uint64_t n, uint64_t cols) {
  auto x = vkq::test::random_floats(n * cols);
  for (uint64_t t = 0; t < n; ++t)
    for (uint64_t j = 0; j < cols; ++j) x[t * cols + j] *= j % 13 == 2 ? 30.0f : 1.0f + float(j % 5) * 0.3f;
  return x;
}

// The F32 model `bytes` with the tensors of `out` in place of its own.
std::vector<uint8_t> replaced(const std::vector<uint8_t>& bytes, const std::map<std::string, QuantizedTensor>& out) {
  auto parts = vkq::test::GgufParts::read(bytes);
  for (const auto& [name, t] : out) {
    auto* p = parts.find(name);
    REQUIRE(p);
    REQUIRE(t.q.type == GgmlType::F32);
    REQUIRE(t.q.data.size() == p->data.size());
    p->data = t.q.data;
  }
  return parts.write();
}

// Folds AWQ's scales into `bytes` (F32) on `windows`; checks that the model
// changed and that its logits did not.
void check_fold(const std::vector<uint8_t>& bytes, const std::vector<std::vector<int32_t>>& windows,
                const std::vector<std::string>& must_change) {
  const vkq::test::LoadedModel before(bytes);
  QuantizeOptions o;
  o.method = Method::awq;
  o.type = GgmlType::Q4_0;
  std::vector<std::string> warnings;
  const auto plan = plan_tensors(before.model->file(), o.type, {});
  const auto out = quantize_calibrated(o, *before.model, plan, windows, warnings, {.awq_fold_only = true});
  const vkq::test::LoadedModel after(replaced(bytes, out));
  for (const auto& name : must_change) {
    INFO(name);
    const auto& a = before.model->file().tensor(name);
    const auto& b = after.model->file().tensor(name);
    CHECK(std::vector<uint8_t>(a.data, a.data + a.bytes) != std::vector<uint8_t>(b.data, b.data + b.bytes));
  }
  std::vector<int32_t> tokens;
  for (int i = 0; i < 48; ++i) tokens.push_back(int32_t((i * 37 + 11) % before.model->hparams().vocab_size));
  tokens[0] = 1;
  CpuForward fa(*before.model, 48), fb(*after.model, 48);
  const auto la = fa.prefill(tokens, 0, true), lb = fb.prefill(tokens, 0, true);
  CHECK(vkq::test::max_rel_diff(lb, la) < 2e-5);
}

}  // namespace

TEST_CASE("AWQ scale search: never worse than RTN, picks alpha > 0 for uneven channels", "[quant][awq]") {
  const uint64_t cols = 128, n = 2048;
  const auto x = uneven_inputs(n, cols);
  Gram g(cols);
  g.add(x.data(), n);
  const auto w1 = vkq::test::random_floats(64 * cols), w2 = vkq::test::random_floats(32 * cols);
  const std::vector<AwqLinear> group = {{w1, 64, GgmlType::Q4_0}, {w2, 32, GgmlType::Q4_0}};
  const AwqScales s = awq_search_scales(group, cols, g.sum(), g.abs_mean());
  CHECK(s.error <= s.error_rtn);
  CHECK(s.alpha > 0);
  CHECK(s.error < 0.95 * s.error_rtn);
  REQUIRE(s.s.size() == cols);
  // Normalised: sqrt(max * min) = 1; the large channels get the large scales.
  const auto [mn, mx] = std::minmax_element(s.s.begin(), s.s.end());
  CHECK(std::abs(std::sqrt(double(*mn) * double(*mx)) - 1.0) < 1e-5);
  float big = *mx, small = *mn;  // the smallest scale of a large channel, the largest of the others
  for (uint64_t j = 0; j < cols; ++j) {
    if (j % 13 == 2) big = std::min(big, s.s[j]);
    else small = std::max(small, s.s[j]);
  }
  CHECK(big > small);
  // The error it reports is the group's output error with these scales.
  double e = 0;
  for (const auto& l : group) e += output_sse(g.sum(), l.w, awq_fake_quantize(l, cols, s.s), l.rows, cols);
  CHECK(std::abs(e - s.error) <= 1e-6 * s.error);
  // alpha = 0 is s = 1.
  for (const float v : awq_candidate_scales(g.abs_mean(), 0.0)) CHECK(v == 1.0f);
}

TEST_CASE("AWQ clipping: GGUF blocks, each row no worse than RTN", "[quant][awq]") {
  const uint64_t rows = 40, cols = 96;
  const auto x = uneven_inputs(1024, cols);
  Gram g(cols);
  g.add(x.data(), 1024);
  const Eigen::MatrixXd G = g.sum();
  auto w = vkq::test::random_floats(rows * cols);
  for (uint64_t r = 0; r < rows; ++r) w[r * cols + r % cols] *= 8;  // an outlier weight per row: clipping pays
  for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0}) {
    INFO(ggml_type_name(type));
    const QuantizedMatrix c = awq_clip_quantize(type, w, rows, cols, G);
    const QuantizedMatrix rtn = quantize_rtn(type, w, rows, cols);
    const uint64_t rb = *ggml_row_bytes(type, cols);
    std::vector<float> deq(cols);
    for (uint64_t r = 0; r < rows; ++r) {
      dequantize_row(type, c.data.data() + r * rb, deq.data(), cols);
      CHECK(std::equal(deq.begin(), deq.end(), c.weights.begin() + std::ptrdiff_t(r * cols)));
      const std::span<const float> wr(w.data() + r * cols, cols);
      CHECK(output_sse(G, wr, std::span(c.weights).subspan(r * cols, cols), 1, cols) <=
            output_sse(G, wr, std::span(rtn.weights).subspan(r * cols, cols), 1, cols));
    }
    CHECK(output_sse(G, w, c.weights, rows, cols) < 0.9 * output_sse(G, w, rtn.weights, rows, cols));
  }
}

TEST_CASE("AWQ folding leaves stories260K's F32 logits unchanged", "[quant][awq]") {
  VKQ_REQUIRE_STORIES260K();
  const auto bytes = vkq::test::stories260k_gguf();
  const vkq::test::LoadedModel m(bytes);
  std::vector<std::vector<int32_t>> windows;
  const auto story = vkq::test::story_tokens(*m.model, 96);
  for (int w = 0; w < 4; ++w) windows.emplace_back(story.begin() + w * 8, story.begin() + w * 8 + 64);
  check_fold(bytes, windows, {"blk.0.attn_norm.weight", "blk.0.attn_q.weight", "blk.4.ffn_norm.weight", "blk.4.ffn_up.weight"});
}

TEST_CASE("AWQ folding into v's and up's rows leaves a synthetic model's logits unchanged", "[quant][awq]") {
  ModelConfig cfg;
  cfg.name = "awq-fold";
  cfg.hp = {.context_length = 128, .embedding_length = 64, .block_count = 2, .feed_forward_length = 96,
            .head_count = 4, .head_count_kv = 4, .vocab_size = 300, .rope_dimension_count = 16};
  MemorySink sink;
  synth_model(cfg, sink, {.type = GgmlType::F32, .seed = 7});
  // A few large embedding channels, as trained models have.
  auto parts = vkq::test::GgufParts::read(sink.bytes);
  auto* e = parts.find("token_embd.weight");
  auto* f = reinterpret_cast<float*>(e->data.data());
  for (size_t i = 0; i < e->data.size() / 4; ++i) f[i] *= i % 64 == 9 ? 12.0f : 1.0f;
  const auto bytes = parts.write();
  std::vector<std::vector<int32_t>> windows;
  for (int w = 0; w < 6; ++w) {
    windows.push_back({1});
    for (int t = 1; t < 64; ++t) windows.back().push_back(int32_t((w * 131 + t * t * 7) % 300));
  }
  check_fold(bytes, windows,
             {"blk.0.attn_norm.weight", "blk.0.attn_v.weight", "blk.0.attn_output.weight", "blk.1.ffn_norm.weight",
              "blk.1.ffn_up.weight", "blk.1.ffn_down.weight"});
}
