// The Vulkan forward pass on stories260K against the CPU reference: greedy
// decoding gives the reference continuation, logits agree over hundreds of
// positions for F32, F16, Q8_0 and Q4_0 weights in decode and in batched
// prefill, prefill equals decode steps, synthetic weights run, and the
// allocations match the forward plan.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <memory>
#include <string>

#include <catch2/catch_test_macros.hpp>
#include <catch2/generators/catch_generators.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include "bench/bench_model.hpp"
#include "cpu_forward.hpp"
#include "error.hpp"
#include "generate.hpp"
#include "gguf_reader.hpp"
#include "model_configs.hpp"
#include "ops/matmul.hpp"
#include "sampler.hpp"
#include "support/gguf_builder.hpp"
#include "support/env.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"
#include "tokenizer.hpp"
#include "vulkan_forward.hpp"

using Catch::Matchers::ContainsSubstring;
using vkq::GgmlType;
using vkq::ops::KvType;

namespace {

using Loaded = vkq::test::LoadedModel;
using vkq::test::story_tokens;

Loaded load(GgmlType type) { return vkq::test::load_stories260k(type); }
double rel_diff(std::span<const float> a, std::span<const float> b) { return vkq::test::max_rel_diff(a, b); }

// stories260K in `type`, the first n tokens of a story and the CPU
// reference's logits at every one of them (what a prefill path is held to).
struct CpuPrefill {
  Loaded l;
  std::vector<int32_t> tokens;
  std::vector<float> want;
};
CpuPrefill cpu_prefill(Loaded l, size_t n) {
  CpuPrefill c{std::move(l), {}, {}};
  c.tokens = story_tokens(*load(GgmlType::F32).model, n);
  REQUIRE(c.tokens.size() == n);
  vkq::CpuForward cpu(*c.l.model, n);
  c.want = cpu.prefill(c.tokens, 0, true);
  return c;
}

// A small llama for synthetic weights: GQA (4 heads of 32, 2 KV heads),
// hidden 352 (whole 32-blocks), vocabulary 1000.
vkq::LlamaHParams small_llama(uint32_t context, uint32_t layers) {
  vkq::LlamaHParams hp;
  hp.context_length = context;
  hp.embedding_length = 128;
  hp.block_count = layers;
  hp.feed_forward_length = 352;
  hp.head_count = 4;
  hp.head_count_kv = 2;
  hp.vocab_size = 1000;
  hp.rope_dimension_count = 32;
  return hp;
}

// Decodes `steps` tokens ((pos * mul + add) % 1000) through both forwards
// and checks that their logits are bit for bit equal at every position.
void check_same_decode(vkq::VulkanForward& a, vkq::VulkanForward& b, uint32_t steps, uint32_t mul, uint32_t add) {
  for (uint32_t pos = 0; pos < steps; ++pos) {
    const int32_t tok = int32_t((pos * mul + add) % 1000);
    const auto la = a.decode(tok, pos);
    const auto lb = b.decode(tok, pos);
    REQUIRE(la.size() == lb.size());
    CHECK(std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)) == 0);
  }
}

vkq::VulkanForwardOptions opts(uint32_t n_ctx, KvType kv = KvType::f16, uint32_t max_batch = 0) {
  vkq::VulkanForwardOptions o;
  o.n_ctx = n_ctx;
  o.kv = kv;
  o.max_batch = max_batch;
  return o;
}

// Options for a small_llama session through the integer-dot GEMVs
// (force_idot; their epilogue and chain variants), synthetic weights from seed.
vkq::VulkanForwardOptions idot_opts(uint64_t seed) {
  auto o = opts(64);
  o.seed = seed;
  o.force_idot = true;
  return o;
}

}  // namespace

TEST_CASE("Vulkan forward: greedy 'Once upon a time' gives the reference continuation", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const auto kv = GENERATE(KvType::f16, KvType::f32);
  const auto l = load(GgmlType::F32);
  const auto tok = vkq::make_tokenizer(l.model->metadata());
  const auto prompt = tok->encode("Once upon a time", true);
  vkq::VulkanForward session(vkq::test::device(), *l.model, opts(64, kv));
  vkq::Sampler greedy({.temperature = 0});
  std::string streamed;
  const auto r = vkq::generate(session, *tok, prompt, 40, greedy, [&](std::string_view p) { streamed += p; });
  INFO("kv " << vkq::ops::kv_type_name(kv));
  CHECK(r.text == std::string(vkq::test::kStoriesContinuation) + "ed ball.");
  CHECK(streamed == r.text);
  CHECK(session.device_name() == vkq::test::device().caps().name);
}

TEST_CASE("Vulkan forward: logits agree with the CPU reference in decode and prefill", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  // 300 positions; the CPU computes them in one batched prefill.
  const size_t n = 300;
  const auto ref_model = load(GgmlType::F32);
  const auto tokens = story_tokens(*ref_model.model, n);
  REQUIRE(tokens.size() == n);
  // Measured max rel logit differences on lavapipe are noted per type: the
  // GPU's fp32 accumulation (and fp16 KV cache) against the CPU's fp64.
  struct Case {
    GgmlType type;
    KvType kv;
    double bound;
  };
  const auto c = GENERATE(Case{GgmlType::F32, KvType::f32, 1e-4}, Case{GgmlType::F32, KvType::f16, 5e-3},
                          Case{GgmlType::F16, KvType::f16, 5e-3}, Case{GgmlType::Q8_0, KvType::f16, 5e-3},
                          Case{GgmlType::Q4_0, KvType::f16, 5e-3}, Case{GgmlType::Q4_1, KvType::f32, 1e-4});
  INFO(vkq::ggml_type_name(c.type) << ", kv " << vkq::ops::kv_type_name(c.kv));
  const auto l = load(c.type);
  const uint32_t vocab = l.model->hparams().vocab_size;
  vkq::CpuForward cpu(*l.model, n);
  const auto want = cpu.prefill(tokens, 0, true);

  // Batched prefill on the GPU, in batches of 128 (the last one shorter).
  vkq::VulkanForward batched(vkq::test::device(), *l.model, opts(n, c.kv, 128));
  const auto got = batched.prefill(tokens, 0, true);
  REQUIRE(got.size() == want.size());
  const double d_prefill = rel_diff(got, want);
  // Decode steps, one token at a time (the recorded step replayed).
  vkq::VulkanForward stepped(vkq::test::device(), *l.model, opts(n, c.kv));
  double d_decode = 0, d_steps = 0;
  for (uint32_t pos = 0; pos < n; ++pos) {
    const auto step = stepped.decode(tokens[pos], pos);
    d_decode = std::max(d_decode, rel_diff(step, std::span(want).subspan(size_t(pos) * vocab, vocab)));
    d_steps = std::max(d_steps, rel_diff(step, std::span(got).subspan(size_t(pos) * vocab, vocab)));
  }
  UNSCOPED_INFO(vkq::ggml_type_name(c.type) << " kv " << vkq::ops::kv_type_name(c.kv) << ": prefill " << d_prefill
                                            << ", decode " << d_decode << ", prefill vs decode " << d_steps);
  // The bounds above hold for fp32 arithmetic (lavapipe's paths). Where the
  // device takes a rounding path, its own bound: a cooperative-matrix GEMM
  // (fp16 inputs; H200: 6.4e-4 for F32 weights, 8.6e-4 against decode) in
  // prefill, the integer-dot GEMV (8-bit activations; the forced-idot test's
  // bound) in decode and in a one-row matmul.
  const auto idot = [](const std::string& v) { return v.ends_with("_idot"); };
  const auto coopmat = [](const std::string& v) { return vkq::ops::gemm_rounds_to_fp16(v); };
  const auto path_bound = [&](const std::string& v) {
    return idot(v) ? 0.05 : coopmat(v) ? std::max(c.bound, 2e-3) : c.bound;
  };
  const auto v_prefill = batched.matmul_variant(c.type, 128), v_decode = stepped.matmul_variant(c.type, 1);
  const double b_prefill = path_bound(v_prefill), b_decode = path_bound(v_decode);
  INFO("prefill " << v_prefill << " (bound " << b_prefill << "), decode " << v_decode << " (bound " << b_decode << ")");
  CHECK(d_prefill <= b_prefill);
  CHECK(d_decode <= b_decode);
  CHECK(d_steps <= std::max(b_prefill, b_decode));
  // Without all_logits: the last token's, equal to the batched row in fp32
  // arithmetic; its classifier is a one-row matmul (the decode path), so
  // where either path rounds, within their bounds.
  vkq::VulkanForward last(vkq::test::device(), *l.model, opts(n, c.kv));
  const bool rounding = idot(v_prefill) || coopmat(v_prefill) || idot(v_decode) || coopmat(v_decode);
  CHECK(rel_diff(last.prefill(tokens, 0), std::span(got).last(vocab)) <= (rounding ? std::max(b_prefill, b_decode) : 1e-5));
}

// Prefill's GEMMs on an fp16 copy of their activations (ops::ConvertF16, the
// fp16-activation GEMM; the default where that GEMM is the
// VK_NV_cooperative_matrix2 kernel), forced on here: logits within the
// fp16 rounding of the activations of the CPU's.
TEST_CASE("Vulkan forward: prefill GEMMs on fp16 activations agree with the CPU reference", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const size_t n = 150;
  const auto type = GENERATE(GgmlType::Q4_0, GgmlType::F16);
  INFO(vkq::ggml_type_name(type));
  const auto [l, tokens, want] = cpu_prefill(load(type), n);
  const vkq::test::Env on("VKQ_PREFILL_F16", "on");
  vkq::VulkanForward batched(vkq::test::device(), *l.model, opts(n, KvType::f16, 64));
  CHECK(batched.plan().bytes("act.xh") == 64ull * 172 * 2);  // the widest input: hidden 172
  const auto got = batched.prefill(tokens, 0, true);
  REQUIRE(got.size() == want.size());
  const auto variant = batched.matmul_variant(type, 64);
  INFO("prefill GEMM " << variant);
  CHECK(variant.find("_f16_") != std::string::npos);
  CHECK(rel_diff(got, want) <= 5e-3);
  {
    const vkq::test::Env junk("VKQ_PREFILL_F16", "yes");
    CHECK_THROWS_AS(vkq::VulkanForward(vkq::test::device(), *l.model, opts(n, KvType::f16, 64)), vkq::InputError);
  }
}

// Prefill's GEMMs on fp16 copies of block-type weights (ops::DequantF16
// into scratch.wh.0 / .1, the next weight's copy beside each GEMM; the
// default where the F16 GEMM is the VK_NV_cooperative_matrix2 kernel),
// forced on here: logits within fp16 rounding of the CPU's, the planes and
// the fp16 activations planned, over 150 tokens in batches of 64 (a new
// stream each, the first copy recorded before its GEMM).
TEST_CASE("Vulkan forward: prefill GEMMs on dequantized fp16 weights agree with the CPU reference", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const size_t n = 150;
  const auto type = GENERATE(GgmlType::Q4_0, GgmlType::Q8_0);
  INFO(vkq::ggml_type_name(type));
  const auto [l, tokens, want] = cpu_prefill(load(type), n);
  const vkq::test::Env on("VKQ_PREFILL_DEQUANT", "on");
  vkq::VulkanForward batched(vkq::test::device(), *l.model, opts(n, KvType::f16, 64));
  // The largest block-type layer matrix: gate | up, 2 x 172 rows of 64
  // (fp16); the widest input of those, 64 (down, with rows of 172, is not
  // a block type in these files).
  CHECK(batched.plan().bytes("scratch.wh.0") == 344ull * 64 * 2);
  CHECK(batched.plan().bytes("scratch.wh.1") == 344ull * 64 * 2);
  CHECK(batched.plan().bytes("act.xh") == 64ull * 64 * 2);
  const auto got = batched.prefill(tokens, 0, true);
  REQUIRE(got.size() == want.size());
  const auto variant = batched.matmul_variant(type, 64);
  INFO("prefill GEMM " << variant);
  CHECK(variant.starts_with(vkq::ops::dequant_op(type) + "+matmul_f16_f16_"));
  CHECK(vkq::ops::gemm_rounds_to_fp16(variant));
  CHECK(rel_diff(got, want) <= 5e-3);
  // The same path without it: the planes are not planned.
  {
    const vkq::test::Env off("VKQ_PREFILL_DEQUANT", "off");
    vkq::VulkanForward plain(vkq::test::device(), *l.model, opts(n, KvType::f16, 64));
    CHECK_THROWS_AS(plain.plan().bytes("scratch.wh.0"), vkq::InputError);
    CHECK_FALSE(plain.matmul_variant(type, 64).starts_with("dequant_f16_"));
  }
  {
    const vkq::test::Env junk("VKQ_PREFILL_DEQUANT", "1");
    CHECK_THROWS_AS(vkq::VulkanForward(vkq::test::device(), *l.model, opts(n, KvType::f16, 64)), vkq::InputError);
  }
}

// Prefill's RMSNorms and SwiGLU write the fp16 activations of the GEMMs
// after them themselves (rmsnorm_f16, swiglu_f16) where every consumer is
// on the fp16 route, in place of fp32 and a ConvertF16 dispatch: the same
// fp32 values rounded once, so the same logits to the bit, with one
// conversion fewer per such GEMM group: F16 weights, q | k | v, gate | up
// and down (3 per layer); Q4_0 with dequantized copies, q | k | v and
// gate | up (2: down, with rows of 172, is not a block type in these files).
// A wrong fp16 output (a mutation scaling swiglu_f16's by 1.01) fails the
// equality.
TEST_CASE("Vulkan forward: prefill norms and SwiGLU write fp16 activations themselves", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const size_t n = 128;
  struct Case {
    GgmlType type;
    const char* env;
    uint32_t saved_per_layer;
  };
  const auto c = GENERATE(Case{GgmlType::F16, "VKQ_PREFILL_F16", 3}, Case{GgmlType::Q4_0, "VKQ_PREFILL_DEQUANT", 2});
  INFO(vkq::ggml_type_name(c.type) << " with " << c.env << "=on");
  // Not a structured binding: the lambda below uses them (clang 14 cannot capture bindings).
  const auto ref = cpu_prefill(load(c.type), n);
  const auto& l = ref.l;
  const auto& tokens = ref.tokens;
  const auto& want = ref.want;
  const vkq::test::Env on(c.env, "on");
  auto run = [&](bool producers, uint32_t& dispatches) {
    auto o = opts(n, KvType::f16, 64);
    o.f16_producers = producers;
    vkq::VulkanForward fwd(vkq::test::device(), *l.model, o);
    auto last = fwd.prefill(tokens, 0);  // batches of 64: the last submit is a whole batch
    dispatches = fwd.prefill_dispatches();
    return last;
  };
  uint32_t d_on = 0, d_off = 0;
  const auto with = run(true, d_on), without = run(false, d_off);
  CHECK(with == without);
  CHECK(rel_diff(with, std::span(want).last(with.size())) <= 5e-3);
  const uint32_t layers = l.model->hparams().block_count;
  CHECK(d_off - d_on == layers * c.saved_per_layer);
  {
    const vkq::test::Env off("VKQ_PREFILL_F16_OUT", "off");
    uint32_t d = 0;
    vkq::VulkanForward fwd(vkq::test::device(), *l.model, opts(n, KvType::f16, 64));
    CHECK(fwd.prefill(tokens, 0) == without);
    d = fwd.prefill_dispatches();
    CHECK(d == d_off);
  }
  {
    const vkq::test::Env junk("VKQ_PREFILL_F16_OUT", "no");
    CHECK_THROWS_AS(vkq::VulkanForward(vkq::test::device(), *l.model, opts(n, KvType::f16, 64)), vkq::InputError);
  }
}

// The same with the value projections in Q8_0 and the rest in Q4_0: q, k
// and v are three matrices of two types, so the next weight's copy crosses
// types and a group's barriers (q -> k -> v -> attn_output -> gate | up).
TEST_CASE("Vulkan forward: prefill on dequantized fp16 weights of mixed types", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const size_t n = 100;
  const auto [l, tokens, want] = cpu_prefill(Loaded(vkq::test::stories260k_requantized(GgmlType::Q4_0, GgmlType::Q8_0)), n);
  REQUIRE(l.model->layers()[0].attn_v.type == GgmlType::Q8_0);
  REQUIRE(l.model->layers()[0].attn_q.type == GgmlType::Q4_0);
  const vkq::test::Env on("VKQ_PREFILL_DEQUANT", "on");
  vkq::VulkanForward batched(vkq::test::device(), *l.model, opts(n, KvType::f16, 64));
  for (const auto t : {GgmlType::Q4_0, GgmlType::Q8_0}) {
    INFO(vkq::ggml_type_name(t));
    CHECK(batched.matmul_variant(t, 64).starts_with(vkq::ops::dequant_op(t) + "+"));
  }
  CHECK(rel_diff(batched.prefill(tokens, 0, true), want) <= 5e-3);
}

TEST_CASE("Vulkan forward: the integer-dot path with fused 8-bit producers", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  // force_idot: Q8_0/Q4_0 matmuls run the integer-dot GEMV (lavapipe has it,
  // not accelerated), fed by rmsnorm_q8 and swiglu_q8 where the widths are
  // whole 32-blocks (stories260K's attention heads of 8 are not: its output
  // projection quantizes for itself).
  const size_t n = 96;
  const auto ref_model = load(GgmlType::F32);
  const auto tokens = story_tokens(*ref_model.model, n);
  for (const auto type : {GgmlType::Q8_0, GgmlType::Q4_0}) {
    INFO(vkq::ggml_type_name(type));
    const auto l = load(type);
    const uint32_t vocab = l.model->hparams().vocab_size;
    vkq::CpuForward cpu(*l.model, n);
    const auto want = cpu.prefill(tokens, 0, true);
    auto o = opts(n, KvType::f32);
    o.force_idot = true;
    // Also as a dispatch chain: its GEMV variants at stories260K's shapes
    // (rows of 64 weights, a last partial block). Not under synchronization
    // validation, which does not follow the chain's waits (see the chain
    // test below): there both runs are unchained.
    o.chain = GENERATE(false, true) && !vkq::test::sync_validation();
    INFO("chain " << *o.chain);
    vkq::VulkanForward s(vkq::test::device(), *l.model, o);
    REQUIRE(s.matmul_variant(type, 1).ends_with("_idot"));
    double worst = 0;
    for (uint32_t pos = 0; pos < n; ++pos)
      worst = std::max(worst, rel_diff(s.decode(tokens[pos], pos), std::span(want).subspan(size_t(pos) * vocab, vocab)));
    // Activations rounded to 8 bits per 32-block (d = amax / 127): measured
    // on lavapipe 0.017 for Q8_0 and 0.018 for Q4_0.
    UNSCOPED_INFO(vkq::ggml_type_name(type) << " integer-dot decode: max rel logit diff " << worst);
    CHECK(worst <= 0.05);
    // The norms write 8-bit blocks themselves: per layer norm (deferred:
    // the GEMVs after it apply 1/rms), QKV, attention with RoPE and the KV
    // write, quantize + output projection (heads of 8) with ffn_norm as its
    // epilogue, gate/up, SwiGLU (hidden 172 is no whole 32-block, so no
    // SwiGLU epilogue), down (F32, so the next norm is a dispatch); then the
    // embedding and the classifier's norm and GEMV. Quantizing before each
    // matmul would add two per layer, a separate rope_kv one.
    CHECK(s.decode_dispatches() == 8 * l.model->hparams().block_count + 3);
    // The plan still predicts the allocations.
    CHECK(s.plan().bytes("act.xq") == 8 * 172);
  }
}

TEST_CASE("Vulkan forward: decode's epilogues agree with the separate dispatches", "[gpu][forward][ffn]") {
  // Hidden 352 (whole 32-blocks) and one gate | up matrix, so gate/up's GEMV
  // computes SwiGLU for down; dim 128, so attn_output and down write the
  // next RMSNorm in the deferred form and the GEMVs after them apply 1/rms.
  // The same synthetic weights (same seed) with fuse_epilogues off are the
  // reference (that path is checked against the CPU above).
  const auto hp = small_llama(128, 3);
  const auto type = GENERATE(GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_1);
  INFO(vkq::ggml_type_name(type));
  const auto layout = vkq::llama_gpu_layout(hp, type, false, {});
  auto o = idot_opts(11);
  o.fused_attention_rows = 0;  // attention as a dispatch of its own (the QKV tail: the test below)
  o.fuse_ffn = false;
  vkq::VulkanForward fused(vkq::test::device(), layout, o);
  o.fuse_ffn = true;  // and the FFN in one dispatch where the device can (ops::FfnTail)
  vkq::VulkanForward whole(vkq::test::device(), layout, o);
  o.fuse_epilogues = false;
  vkq::VulkanForward plain(vkq::test::device(), layout, o);
  REQUIRE(fused.matmul_variant(type, 1).ends_with("_idot"));
  const bool ffn = vkq::test::device().caps().int64_atomics;
  double worst = 0, first = 0, worst_ffn = 0, first_ffn = 0, scale = 0;
  for (uint32_t pos = 0; pos < 48; ++pos) {
    const int32_t tok = int32_t((pos * 37 + 5) % 1000);
    const auto a = fused.decode(tok, pos);
    const auto b = plain.decode(tok, pos);
    const auto c = whole.decode(tok, pos);
    worst = std::max(worst, rel_diff(a, b));
    worst_ffn = std::max(worst_ffn, rel_diff(c, a));
    if (pos == 0) {
      first = rel_diff(a, b);
      first_ffn = rel_diff(c, a);
    }
    for (const float v : b) scale = std::max(scale, double(std::fabs(v)));
  }
  UNSCOPED_INFO(vkq::ggml_type_name(type) << " epilogues vs dispatches: max rel logit diff "
                                            << worst << ", at position 0 " << first << "; the one-dispatch FFN vs "
                                            << "the epilogues: " << worst_ffn << ", at position 0 " << first_ffn);
  CHECK(scale > 0.1);  // logits that are not all zero
  // The one-dispatch FFN: the same 8-bit h and the same down rows as the
  // two GEMVs, summed in fixed point instead of in fp32; where a residual
  // row then lands on the other side of an 8-bit rounding step, as above.
  CHECK(first_ffn <= 1e-5);
  CHECK(worst_ffn <= 0.05);
  CHECK(whole.decode_ffn_fused() == ffn);
  CHECK_FALSE(fused.decode_ffn_fused());
  CHECK(whole.decode_dispatches() == (ffn ? 4 : 5) * hp.block_count + 3);
  {  // Unset, VKQ_FUSED_FFN=on|off decides (auto: off, slower on the H100); the option
     // wins over it; junk is refused.
    auto od = idot_opts(11);
    vkq::VulkanForward dflt(vkq::test::device(), layout, od);
    (void)dflt.decode(1, 0);
    CHECK_FALSE(dflt.decode_ffn_fused());
    const vkq::test::Env e("VKQ_FUSED_FFN", "on");
    vkq::VulkanForward on(vkq::test::device(), layout, od);
    (void)on.decode(1, 0);
    CHECK(on.decode_ffn_fused() == ffn);
    od.fuse_ffn = false;
    vkq::VulkanForward off(vkq::test::device(), layout, od);
    (void)off.decode(1, 0);
    CHECK_FALSE(off.decode_ffn_fused());
    const vkq::test::Env junk("VKQ_FUSED_FFN", "maybe");
    CHECK_THROWS_AS(vkq::VulkanForward(vkq::test::device(), layout, od), vkq::InputError);
  }
  // The same formulas (swiglu_q8's, quantize_block32); the deferred norm
  // quantizes x * w and scales the GEMV's sum by 1/rms where the dispatch
  // quantizes x * w / rms: the same 8-bit values but where v / d lands on
  // a rounding tie in one and not the other. Measured on lavapipe: equal to
  // 4e-7 up to the first such tie (position 0 here), then one 8-bit step
  // apart in one value, which the KV cache keeps: 0.021 (Q4_0), 0.006
  // (Q4_1) and 4e-7 (Q8_0) of the largest logit at most, within the 0.05
  // that 8-bit activations are allowed against the CPU above.
  CHECK(first <= 1e-5);
  CHECK(worst <= 0.05);
  // Per layer QKV, attention, attn_output + ffn_norm, gate/up + SwiGLU,
  // down + the next norm; then the embedding, the first layer's norm and the
  // classifier's GEMV. The separate path adds the two norms and a SwiGLU
  // per layer (the output norm instead of the first layer's).
  CHECK(fused.decode_dispatches() == 5 * hp.block_count + 3);
  CHECK(plain.decode_dispatches() == 8 * hp.block_count + 3);
}

TEST_CASE("Vulkan forward: decode as one dispatch chain gives the same logits", "[gpu][forward]") {
  // The chain variants (shaders/common/chain.glsl) do the same arithmetic
  // as the kernels they stand for and differ only in how each waits for the
  // one before: an arrival count in place of a barrier. Synchronization
  // validation does not follow such waits (it sees each dropped barrier as a
  // read-after-write hazard), so the test runs under the core validation
  // layer only.
  if (vkq::test::sync_validation())
    SKIP("synchronization validation does not model waits on arrival counts");
  const auto hp = small_llama(128, 3);
  const auto type = GENERATE(GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_1);
  INFO(vkq::ggml_type_name(type));
  const auto layout = vkq::llama_gpu_layout(hp, type, false, {});
  auto o = idot_opts(13);
  // The same attention splits in both (set: with other splits the partials
  // would be combined in another order), and attention a dispatch
  // in both (a chained session never runs it as the QKV GEMV's tail).
  o.attention_splits = 2;
  o.fused_attention_rows = 0;
  o.fuse_ffn = false;  // a chained session keeps gate/up and down apart
  o.chain = false;
  vkq::VulkanForward plain(vkq::test::device(), layout, o);
  o.chain = true;
  vkq::VulkanForward chained(vkq::test::device(), layout, o);
  check_same_decode(plain, chained, 40, 41, 3);
  // Every barrier between QKV, attention, attn_output, gate/up and down,
  // layer to layer, and before the classifier's GEMV, replaced by a wait;
  // the embedding and the first norm keep theirs. The same dispatches.
  CHECK(plain.decode_chained() == 0);
  CHECK(chained.decode_chained() == 5 * hp.block_count);
  CHECK(chained.decode_dispatches() == plain.decode_dispatches());
  // The unchained reference a chained session keeps (bench model's check):
  // the plain session's step, bit for bit.
  {
    const auto la = plain.decode(77, 40), lb = chained.decode_unchained(77, 40);
    CHECK(std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)) == 0);
    vkq::bench::ModelBenchOptions bo;
    bo.prompt = 0;
    bo.gen = 8;
    bo.reps = 1;
    bo.copy_gbps = 1;
    bo.breakdown = false;
    const auto r = vkq::bench::bench_model(chained, bo);
    CHECK(r.chained_per_token == 5 * hp.block_count);
    CHECK(r.chain_checked == 3);
    CHECK(r.chain_max_rel_diff == 0);
    CHECK(r.chain_ok);
    const auto rp = vkq::bench::bench_model(plain, bo);
    CHECK(rp.chain_checked == 0);
    CHECK(rp.chain_ok);
  }
  // VKQ_CHAIN_ELIDE=A-B: only those links drop their barrier.
  {
    o.chain = false;
    vkq::VulkanForward plain3(vkq::test::device(), layout, o);
    o.chain = true;
    vkq::VulkanForward some(vkq::test::device(), layout, o);
    ::setenv("VKQ_CHAIN_ELIDE", "2-5", 1);  // read when the step is recorded, at its first decode
    check_same_decode(plain3, some, 4, 41, 3);
    ::unsetenv("VKQ_CHAIN_ELIDE");
    CHECK(some.decode_chained() == 3);
  }
  // Junk, signs and reversed ranges are refused, not wrapped to huge link numbers.
  for (const char* junk : {"-3", "2--5", "5-2", "x", "3-", "99999999999"}) {
    INFO("VKQ_CHAIN_ELIDE=" << junk);
    o.chain = true;
    vkq::VulkanForward bad(vkq::test::device(), layout, o);
    const vkq::test::Env e("VKQ_CHAIN_ELIDE", junk);
    CHECK_THROWS_AS(bad.decode(41, 0), vkq::InputError);
  }
  // A dispatch recorded between two links (the prefetch reads beside
  // attention) keeps the barrier before the next one: attn_output then
  // waits on a barrier, not on attention's count.
  o.prefetch_bytes = 4096;
  vkq::VulkanForward prefetching(vkq::test::device(), layout, o);
  o.prefetch_bytes = 0;
  o.chain = false;
  vkq::VulkanForward plain2(vkq::test::device(), layout, o);
  check_same_decode(plain2, prefetching, 6, 41, 3);
  CHECK(prefetching.decode_chained() == 4 * hp.block_count);
  // The default attention splits, chained or not: n_ctx / 8, 1 .. 32 (and
  // 1024 workgroups in all).
  CHECK(vkq::ops::attention_splits(32, 32) == 4);
  CHECK(vkq::ops::attention_splits(32, 128) == 16);
  CHECK(vkq::ops::attention_splits(32, 4096) == 32);
  CHECK(vkq::ops::attention_splits(64, 4096) == 16);
}

TEST_CASE("Vulkan forward: decode attention as the QKV GEMV's tail agrees with the attention kernel", "[gpu][forward]") {
  // The QKV GEMV's last workgroup per KV head runs that head group's
  // attention (common/qkv_attention.glsl) for positions below
  // fused_attention_rows, the split attention kernel after it for later
  // ones; against sessions where the kernel takes every position. The
  // arithmetic is the kernel's, summed in another order, and the output is
  // quantized to 8 bits for attn_output: where a value lands on the other
  // side of a rounding step the two part by one 8-bit step, which the KV
  // cache then keeps (as in the epilogue test above).
  const auto type = GENERATE(GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_1);
  const auto kv = GENERATE(KvType::f16, KvType::f32);
  const uint32_t kv_heads = GENERATE(2u, 4u);  // 2 and 1 query heads per KV head
  auto hp = small_llama(128, 3);
  hp.head_count_kv = kv_heads;
  INFO(vkq::ggml_type_name(type) << ", kv " << vkq::ops::kv_type_name(kv) << ", " << kv_heads << " KV heads");
  const auto layout = vkq::llama_gpu_layout(hp, type, false, {});
  auto o = idot_opts(17);
  o.kv = kv;
  o.fuse_ffn = false;  // gate/up and down as two dispatches (the counts below)
  o.fused_attention_rows = 0;
  vkq::VulkanForward plain(vkq::test::device(), layout, o);
  o.fused_attention_rows = 40;  // positions 0 .. 39 in the tail, 40 .. 63 in the kernel after it
  vkq::VulkanForward fused(vkq::test::device(), layout, o);
  o.fused_attention_rows = 64;  // every position: no attention dispatch
  vkq::VulkanForward whole(vkq::test::device(), layout, o);
  double worst = 0, first = 0, worst_whole = 0, scale = 0;
  for (uint32_t pos = 0; pos < 64; ++pos) {
    const int32_t tok = int32_t((pos * 29 + 3) % 1000);
    const auto a = plain.decode(tok, pos), b = fused.decode(tok, pos), c = whole.decode(tok, pos);
    worst = std::max(worst, rel_diff(b, a));
    worst_whole = std::max(worst_whole, rel_diff(c, a));
    if (pos == 0) first = rel_diff(b, a);
    for (const float v : a) scale = std::max(scale, double(std::fabs(v)));
  }
  UNSCOPED_INFO(vkq::ggml_type_name(type) << " kv " << vkq::ops::kv_type_name(kv) << " " << kv_heads
                                          << " KV heads: QKV tail vs attention kernel: max rel logit diff " << worst
                                          << " (every position in the tail " << worst_whole << "), at position 0 "
                                          << first);
  CHECK(scale > 0.1);
  CHECK(first <= 1e-4);
  CHECK(worst <= 0.05);
  CHECK(worst_whole <= 0.05);
  CHECK(plain.decode_attention_fused() == false);
  CHECK(fused.decode_attention_fused());
  CHECK(whole.decode_attention_fused());
  // Per layer: QKV (+ the tail), the attention kernel (not where the tail
  // covers the context), attn_output, gate/up, down; then the embedding,
  // the first norm and the classifier.
  CHECK(plain.decode_dispatches() == 5 * hp.block_count + 3);
  CHECK(fused.decode_dispatches() == 5 * hp.block_count + 3);
  CHECK(whole.decode_dispatches() == 4 * hp.block_count + 3);
  // Ablation: "attention" left out is the plain QKV GEMV.
  whole.set_decode_skip({"attention"});
  (void)whole.decode(5, 3);
  CHECK(whole.decode_dispatches() == 4 * hp.block_count + 3);
}

TEST_CASE("Vulkan forward: VKQ_FUSED_ATTENTION_ROWS sets the QKV tail's rows and refuses junk", "[gpu][forward]") {
  const auto hp = small_llama(128, 1);
  const auto layout = vkq::llama_gpu_layout(hp, GgmlType::Q8_0, false, {});
  {
    vkq::test::Env e("VKQ_FUSED_ATTENTION_ROWS", "0");
    vkq::VulkanForward s(vkq::test::device(), layout, idot_opts(3));
    (void)s.decode(1, 0);
    CHECK(s.fused_attention_rows() == 0);
    CHECK_FALSE(s.decode_attention_fused());
  }
  {
    vkq::test::Env e("VKQ_FUSED_ATTENTION_ROWS", "16");
    vkq::VulkanForward s(vkq::test::device(), layout, idot_opts(3));
    (void)s.decode(1, 0);
    CHECK(s.fused_attention_rows() == 16);
    CHECK(s.decode_attention_fused());
    // The option wins over the variable.
    auto o = idot_opts(3);
    o.fused_attention_rows = 0;
    vkq::VulkanForward off(vkq::test::device(), layout, o);
    CHECK(off.fused_attention_rows() == 0);
  }
  for (const char* bad : {"", "-1", "12x", "99999999999"}) {
    vkq::test::Env e("VKQ_FUSED_ATTENTION_ROWS", bad);
    CHECK_THROWS_WITH(vkq::VulkanForward(vkq::test::device(), layout, idot_opts(3)),
                      ContainsSubstring("VKQ_FUSED_ATTENTION_ROWS"));
  }
  // Default: off (not yet measured on a GPU); never with a chain.
  vkq::VulkanForward d(vkq::test::device(), layout, idot_opts(3));
  CHECK(d.fused_attention_rows() == 0);
  auto o = idot_opts(3);
  o.fused_attention_rows = 64;
  o.chain = true;
  vkq::VulkanForward chained(vkq::test::device(), layout, o);
  CHECK(chained.fused_attention_rows() == 0);
}

TEST_CASE("Vulkan forward: decode ablation leaves out each op kind's dispatches and comes back whole", "[gpu][forward]") {
  const auto hp = small_llama(128, 3);
  const auto layout = vkq::llama_gpu_layout(hp, GgmlType::Q8_0, false, {});
  auto o = opts(32);
  o.seed = 9;
  vkq::VulkanForward a(vkq::test::device(), layout, o), b(vkq::test::device(), layout, o);
  check_same_decode(a, b, 3, 41, 3);
  const uint32_t all = b.decode_dispatches();
  for (const auto& kind : vkq::VulkanForward::ablation_ops()) {
    INFO(kind);
    b.set_decode_skip({kind});
    (void)b.decode(5, 3);
    CHECK(b.decode_dispatches() < all);
    CHECK((all - b.decode_dispatches()) % hp.block_count == 0);  // the same per layer
  }
  // Left out, attention wrote no K/V row at position 3: the sessions agree
  // again once both have rewritten it.
  b.set_decode_skip({});
  check_same_decode(a, b, 6, 41, 3);
  CHECK(b.decode_dispatches() == all);
  CHECK_THROWS_WITH(b.set_decode_skip({"swiglu"}), Catch::Matchers::ContainsSubstring("unknown op kind 'swiglu'"));
}

TEST_CASE("Vulkan forward: the decode prefetch changes no logit", "[gpu][forward]") {
  // Prefetch reads (read_stream beside each layer's attention) load weights
  // and write only their own output words: the logits are bit for bit those
  // without them, for a budget that covers part of one plane and for one
  // past every plane of attn_output and gate/up.
  const auto hp = small_llama(128, 3);
  const auto type = GENERATE(GgmlType::Q4_0, GgmlType::F16);
  const uint64_t budget = GENERATE(uint64_t(4096), uint64_t(1) << 30);
  INFO(vkq::ggml_type_name(type) << " budget " << budget);
  const auto layout = vkq::llama_gpu_layout(hp, type, false, {});
  auto o = opts(32);
  o.seed = 5;
  vkq::VulkanForward plain(vkq::test::device(), layout, o);
  o.prefetch_bytes = budget;
  vkq::VulkanForward pre(vkq::test::device(), layout, o);
  check_same_decode(plain, pre, 12, 53, 7);
  // One read per plane within the budget, per layer.
  const uint32_t planes = type == GgmlType::F16 ? 2 : 4;  // attn_output and gate/up: quants (and scales)
  const uint32_t extra = budget < 8192 ? 1 : planes;
  CHECK(pre.decode_dispatches() == plain.decode_dispatches() + extra * hp.block_count);
}

TEST_CASE("Vulkan forward: seeded sampling is reproducible", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const auto l = load(GgmlType::Q8_0);
  const auto tok = vkq::make_tokenizer(l.model->metadata());
  const auto prompt = tok->encode("Once upon a time", true);
  std::string first;
  for (int i = 0; i < 2; ++i) {
    vkq::VulkanForward s(vkq::test::device(), *l.model, opts(128));
    vkq::Sampler sampler({.temperature = 0.9f, .top_k = 40, .top_p = 0.95f, .seed = 1234});
    const auto r = vkq::generate(s, *tok, prompt, 60, sampler);
    if (i == 0) first = r.text;
    else CHECK(r.text == first);
  }
  CHECK(first.size() > 20);
}

TEST_CASE("Vulkan forward: positions, tokens and context are checked", "[gpu][forward]") {
  VKQ_REQUIRE_STORIES260K();
  const auto l = load(GgmlType::F32);
  auto& dev = vkq::test::device();
  CHECK_THROWS_WITH(vkq::VulkanForward(dev, *l.model, opts(513)), ContainsSubstring("outside 1 .. llama.context_length"));
  vkq::VulkanForward s(dev, *l.model, opts(4));
  CHECK(s.n_ctx() == 4);
  CHECK(s.n_vocab() == 512);
  CHECK_THROWS_WITH(s.decode(1, 4), ContainsSubstring("past the context of 4 tokens"));
  CHECK_THROWS_WITH(s.prefill(std::vector<int32_t>{1, 2, 3}, 2), ContainsSubstring("positions 2 .. 4"));
  CHECK_THROWS_WITH(s.decode(512, 0), ContainsSubstring("token id 512 is outside the vocabulary"));
  CHECK_THROWS_AS(s.decode(-1, 0), vkq::InputError);
  CHECK(s.decode(1, 3).size() == 512);
}

TEST_CASE("Vulkan forward: synthetic weights run at a config's shapes", "[gpu][forward]") {
  // A small llama with GQA, rope factors and an untied output, in each type.
  const auto hp = small_llama(256, 2);
  const auto type = GENERATE(GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::F16, GgmlType::Q4_1, GgmlType::BF16);
  std::vector<float> freqs(16, 1.5f);
  const auto layout = vkq::llama_gpu_layout(hp, type, false, freqs);
  auto o = opts(64);
  o.seed = 3;
  vkq::VulkanForward s(vkq::test::device(), layout, o);
  const std::vector<int32_t> toks{1, 50, 999, 7, 7, 300, 2, 11, 12, 13};
  const auto a = s.prefill(toks, 0, true);
  REQUIRE(a.size() == toks.size() * 1000);
  CHECK(std::all_of(a.begin(), a.end(), [](float f) { return std::isfinite(f); }));
  // Not constant: random weights give different logits per token.
  CHECK(rel_diff(std::span(a).first(1000), std::span(a).subspan(1000, 1000)) > 1e-3);
  // Decode continues the same cache.
  const auto d = s.decode(5, 10);
  CHECK(std::all_of(d.begin(), d.end(), [](float f) { return std::isfinite(f); }));
  CHECK(s.weight_bytes_per_token() > 0);
}

TEST_CASE("Vulkan forward: allocations are the forward plan's", "[gpu][forward][fit]") {
  VKQ_REQUIRE_STORIES260K();
  // A device of its own, so the memory counters see this session alone.
  vkq::Device dev(vkq::test::instance(), vkq::test::device().caps().index);
  const auto l = load(GgmlType::Q8_0);
  // on: prefill's fp16 weight planes and activations are planned and allocated too.
  const auto dequant = GENERATE(as<std::string>(), "auto", "on");
  const vkq::test::Env env("VKQ_PREFILL_DEQUANT", dequant.c_str());
  INFO("VKQ_PREFILL_DEQUANT=" << dequant);
  const uint64_t before = dev.memory_stats().current;
  vkq::VulkanForward s(dev, *l.model, opts(256));
  if (dequant == "on") CHECK(s.plan().bytes("scratch.wh.1") == 344ull * 64 * 2);
  s.prefill(vkq::test::kStoriesPromptTokens, 0);
  s.decode(42, 5);
  const auto& plan = s.plan();
  const uint64_t measured = dev.memory_stats().peak - before;
  INFO("planned " << plan.peak_bytes() << " measured peak " << measured);
  // Allocation sizes round up to the driver's alignment: a few percent on
  // this tiny model, far inside 2% or 64 MiB.
  CHECK(measured >= plan.device_bytes());
  CHECK(double(measured) <= double(plan.peak_bytes()) * 1.10 + 65536);
}
