// The forward pass's non-matmul kernels against their CPU references
// (ops/llama_ops_ref.hpp) on random data, outputs poisoned first. Tolerances
// per op below: fp32 arithmetic against the fp64 references.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <catch2/catch_test_macros.hpp>
#include <fmt/format.h>
#include <catch2/generators/catch_generators.hpp>

#include "buffer.hpp"
#include "error.hpp"
#include "command_stream.hpp"
#include "ggml_types.hpp"
#include "gpu_weights.hpp"
#include "ops/elementwise.hpp"
#include "ops/llama_ops.hpp"
#include "ops/llama_ops_ref.hpp"
#include "ops/matmul.hpp"
#include "quant_blocks.hpp"
#include "support/env.hpp"
#include "support/gpu.hpp"
#include "support/llama_models.hpp"
#include "support/matmul_check.hpp"
#include "tensor_view.hpp"

using namespace vkq;

namespace {

std::vector<float> download(const Buffer& b, size_t n) {
  std::vector<float> v(n);
  b.download(std::span<float>(v));
  return v;
}

std::vector<uint32_t> download_u32(const Buffer& b, size_t n) {
  std::vector<uint32_t> v(n);
  b.download(std::span<uint32_t>(v));
  return v;
}

// ops::ConvertF16 of the first n floats of `f32` (n a multiple of 4), as
// packed words: what an op's fp16 output form must equal bit for bit.
std::vector<uint32_t> converted_f16(Device& dev, const Buffer& f32, size_t n) {
  Buffer h(dev, n * 2);
  CommandStream cs(dev);
  ops::ConvertF16(dev).record(cs, f32, h, n);
  cs.submit_and_wait();
  return download_u32(h, n / 2);
}

Buffer upload(Device& dev, std::span<const float> v) {
  Buffer b(dev, std::max<size_t>(v.size(), 1) * 4);
  b.upload(v);
  return b;
}

double rel_err(std::span<const float> a, std::span<const float> b) { return test::max_rel_diff(a, b); }

// A KV cache as the kernels store it: fp32, or fp16 pairs (values rounded
// in `v` so a reference sees what the GPU does).
std::vector<uint8_t> kv_bytes(std::vector<float>& v, ops::KvType kv) {
  if (kv == ops::KvType::f32) return {reinterpret_cast<uint8_t*>(v.data()), reinterpret_cast<uint8_t*>(v.data() + v.size())};
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    h[i] = fp32_to_fp16(v[i]);
    v[i] = fp16_to_fp32(h[i]);
  }
  return {reinterpret_cast<uint8_t*>(h.data()), reinterpret_cast<uint8_t*>(h.data() + h.size())};
}

// What the attention kernels read besides q: the step buffer with the
// position of the first token, and the K and V caches (kv_bytes).
struct AttentionInputs {
  Buffer step, k, v;
  AttentionInputs(Device& dev, uint32_t start, const std::vector<uint8_t>& kb, const std::vector<uint8_t>& vb)
      : step(dev, 16, MemoryKind::host), k(dev, kb.size()), v(dev, vb.size()) {
    const uint32_t sp[4] = {start, 0, 0, 0};
    step.upload(sp, 16);
    k.upload(kb.data(), kb.size());
    v.upload(vb.data(), vb.size());
  }
};

std::vector<float> kv_floats(const Buffer& b, size_t n, ops::KvType kv) {
  if (kv == ops::KvType::f32) return download(b, n);
  std::vector<uint16_t> h(n);
  b.download(std::span<uint16_t>(h));
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = fp16_to_fp32(h[i]);
  return out;
}

// The 8-bit copy a _q8 producer wrote beside its fp32 output `v` ([rows][width]):
// per 32-block d = amax / 127, q = round(v / d) within rounding, s = d sum(q).
void check_q8(std::span<const float> v, const Buffer& xq, const Buffer& xds, uint32_t rows, uint32_t width) {
  std::vector<int8_t> q(size_t(rows) * width);
  std::vector<float> ds(size_t(rows) * width / 32 * 2);
  xq.download(std::span<int8_t>(q));
  xds.download(std::span<float>(ds));
  size_t bad = 0;
  for (size_t b = 0; b < size_t(rows) * width / 32; ++b) {
    double amax = 0;
    for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(double(v[b * 32 + i])));
    const double d = ds[2 * b], s = ds[2 * b + 1];
    int64_t qs = 0;
    bool ok = std::fabs(d - amax / 127) <= 1e-6 * amax / 127;
    for (size_t i = 0; i < 32; ++i) {
      qs += q[b * 32 + i];
      // Half a step, plus the rounding of v * (1 / d) in fp32 near a .5 tie.
      ok = ok && std::fabs(d * q[b * 32 + i] - v[b * 32 + i]) <= 0.5 * d + 2e-6 * (std::fabs(v[b * 32 + i]) + d) + 1e-30;
    }
    ok = ok && std::fabs(s - d * double(qs)) <= 1e-6 * (std::fabs(s) + d);
    if (!ok && !bad) {
      UNSCOPED_INFO("first bad block " << b << " of " << rows * width / 32 << ": d " << d << " (amax / 127 = " << amax / 127
                                       << "), s " << s << " (d sum q = " << d * double(qs) << ")");
      for (size_t i = 0; i < 32; ++i)
        if (std::fabs(d * q[b * 32 + i] - v[b * 32 + i]) > 0.5 * d)
          UNSCOPED_INFO("  element " << i << ": v " << v[b * 32 + i] << ", q " << int(q[b * 32 + i]) << ", d q "
                                     << d * q[b * 32 + i]);
    }
    bad += !ok;
  }
  CHECK(bad == 0);
}

// The integer-dot GEMV variant of t's weights, or "" (with a warning)
// where the device profile masks it: decode then has no deferred norm.
std::string idot_gemv(GgmlType t) {
  const std::string name = ops::matmul_op("matvec", t, ops::ActType::f32) + "_idot";
  const auto ok = test::runnable(ops::matmul_op("matvec", t, ops::ActType::f32));
  if (std::find(ok.begin(), ok.end(), name) != ok.end()) return name;
  WARN(name << " does not run under this device profile; decode then has no deferred norm");
  return {};
}

}  // namespace

TEST_CASE("get_rows matches embed_ref for every weight type", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const auto type = GENERATE(GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1);
  // K = 100 only for the plain types (block types need whole 32-blocks).
  const uint32_t K = GENERATE(64u, 100u, 4096u);
  if (K % 32 && ggml_type_info(type).block_elems != 1) return;
  const uint32_t M = 37;
  const auto row_bytes = *ggml_row_bytes(type, K);
  std::vector<uint8_t> w(M * row_bytes);
  const auto f = test::random_floats(size_t(M) * K);
  for (uint32_t r = 0; r < M; ++r) quantize_row(type, f.data() + size_t(r) * K, w.data() + r * row_bytes, K);
  const auto view = TensorView::make("emb", type, K, M, w.data());
  // A small plane limit splits the rows into chunks: each token's row is in one.
  const bool split = GENERATE(false, true);
  const uint64_t plane = split ? quant_row_bytes(type, K) * 5 + 3 : 0;  // chunks of 5 rows
  GpuMatrix gw(dev, type, w.data(), M, K, plane);
  const std::vector<int32_t> toks{0, 36, 5, 5, 17, 35, 1};
  std::vector<float> ref(toks.size() * K);
  ops::embed_ref(view, toks, ref);
  Buffer bt(dev, toks.size() * 4), out(dev, toks.size() * (K + 3) * 4);
  bt.upload(std::span<const int32_t>(toks));
  out.fill(test::kPoison);
  ops::GetRows op(dev, type);
  CommandStream cs(dev);
  op.record(cs, gw, bt, out, uint32_t(toks.size()), K + 3);
  cs.submit_and_wait();
  const auto got = download(out, toks.size() * (K + 3));
  INFO(ggml_type_name(type) << " K=" << K << " chunks=" << gw.chunks().size());
  // d * q + m (GPU) against d * (q - 8) (ggml): a rounding apart.
  for (size_t t = 0; t < toks.size(); ++t)
    CHECK(rel_err(std::span(got).subspan(t * (K + 3), K), std::span(ref).subspan(t * K, K)) <= 1e-6);
}

TEST_CASE("rmsnorm matches rmsnorm_ref", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const uint32_t width = GENERATE(8u, 64u, 172u, 4096u, 5000u);
  const uint32_t rows = GENERATE(1u, 3u, 70u);
  auto x = test::random_floats(size_t(rows) * width, -3, 3);
  const auto w = test::random_floats(width, 0.5f, 1.5f);
  std::vector<float> ref(x.size());
  ops::rmsnorm_ref(x, w, 1e-5f, ref);
  auto bx = upload(dev, x), bw = upload(dev, w);
  Buffer out(dev, x.size() * 4 + 64);
  out.fill(test::kPoison);
  ops::RmsNorm op(dev);
  CommandStream cs(dev);
  // Output at an offset, as the forward pass writes the last rows.
  op.record(cs, bx, bw, out, {rows, width, 1e-5f, 0, width, 16, width});
  cs.submit_and_wait();
  const auto got = download(out, x.size() + 16);
  INFO("width " << width << " rows " << rows);
  CHECK(rel_err(std::span(got).subspan(16, x.size()), ref) <= 2e-6);
  // In place (out = x), as the classifier path does not, but may.
  CommandStream cs2(dev);
  op.record(cs2, bx, bw, bx, {rows, width, 1e-5f});
  cs2.submit_and_wait();
  CHECK(rel_err(download(bx, x.size()), ref) <= 2e-6);
  // rmsnorm_f16 (prefill, for a GEMM on fp16 activations): ConvertF16 of
  // the fp32 output, bit for bit, at an output offset and stride.
  if (width % 2 == 0) {
    bx = upload(dev, x);
    Buffer f32(dev, x.size() * 4), h(dev, (x.size() + 8 * rows) * 2 + 64);
    h.fill(test::kPoison);
    CommandStream cs3(dev);
    op.record(cs3, bx, bw, f32, {rows, width, 1e-5f});
    ops::RmsNorm(dev, false, false, ops::ActType::f16).record(cs3, bx, bw, h, {rows, width, 1e-5f, 0, width, 4, width + 8});
    cs3.submit_and_wait();
    const auto want = converted_f16(dev, f32, x.size());
    const auto words = download_u32(h, (x.size() + 8 * rows) / 2 + 2);
    CHECK(words[0] == test::kPoison);
    size_t diff = 0;
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t i = 0; i < width / 2; ++i) diff += words[2 + r * (width + 8) / 2 + i] != want[r * width / 2 + i];
    CHECK(diff == 0);
    CHECK_THROWS_AS(ops::RmsNorm(dev, false, false, ops::ActType::f16).record(cs3, bx, bw, h, {rows, width, 1e-5f, 0, width, 3, width}),
                    InputError);
  }
  CHECK_THROWS_AS(ops::RmsNorm(dev, true, false, ops::ActType::f16), InputError);
}

TEST_CASE("decode attention's tuning variables pick the kernel and refuse bad values", "[gpu][llama_ops]") {
  auto& dev = test::device();
  using test::Env;
  {
    Env e("VKQ_DECODE_ATTENTION", "fallback");
    CHECK(ops::Attention(dev, ops::KvType::f16, true, true, 4).variant_for(64) == "attention_f16_rope_q8");
    // Not a decode kernel: unaffected.
    CHECK(ops::Attention(dev, ops::KvType::f16, false, false, 1, false).variant_for(64) == "attention_f16");
  }
  {
    Env e("VKQ_DECODE_ATTENTION", "auto");
    CHECK(ops::Attention(dev, ops::KvType::f32, false, true, 4).variant_for(64) ==
          (dev.caps().subgroup_arith ? "attention_f32_rope_subgroup" : "attention_f32_rope"));
  }
  {
    Env e("VKQ_DECODE_ATTENTION", "registers");
    CHECK_THROWS_AS(ops::Attention(dev, ops::KvType::f16, false, true, 4), InputError);
  }
  for (const char* bad : {"0", "-3", "4x", "70000"}) {
    INFO(bad);
    Env e("VKQ_DECODE_SPLIT_ROWS", bad);
    CHECK_THROWS_AS(ops::Attention(dev, ops::KvType::f16, false, true, 4), InputError);
  }
  Env e("VKQ_DECODE_SPLIT_ROWS", "16");
  CHECK_NOTHROW(ops::Attention(dev, ops::KvType::f16, false, true, 4));
}

TEST_CASE("rmsnorm_q8, attention_*_q8 and swiglu_q8 write 8-bit blocks of their outputs", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const uint32_t rows = GENERATE(1u, 5u);
  for (const uint32_t width : {4096u, 8448u}) {  // rmsnorm, rows at an offset as the classifier's input; 8448: wider than the shared-memory copy
    INFO("rmsnorm width " << width);
    auto x = test::random_floats(size_t(rows + 2) * width, -3, 3);
    const auto w = test::random_floats(width, 0.5f, 1.5f);
    auto bx = upload(dev, x), bw = upload(dev, w);
    Buffer out(dev, size_t(rows) * width * 4), xq(dev, size_t(rows) * width), xds(dev, size_t(rows) * width / 32 * 8);
    out.fill(test::kPoison);
    xq.fill(test::kPoison);
    xds.fill(test::kPoison);
    ops::RmsNorm op(dev, true);
    CommandStream cs(dev);
    op.record(cs, bx, bw, out, {rows, width, 1e-5f, 2 * width, width, 0, width}, {&xq, &xds});
    cs.submit_and_wait();
    std::vector<float> ref(size_t(rows) * width);
    ops::rmsnorm_ref(std::span(x).subspan(2 * width, ref.size()), w, 1e-5f, ref);
    const auto got = download(out, ref.size());
    CHECK(rel_err(got, ref) <= 2e-6);
    check_q8(got, xq, xds, rows, width);
    // Built without a quantized output, a recording with one is refused.
    CHECK_THROWS_AS(ops::RmsNorm(dev).record(cs, bx, bw, out, {rows, width, 1e-5f}, {&xq, &xds}), InputError);
  }
  for (const auto kv : {ops::KvType::f16, ops::KvType::f32}) {  // attention, head_dim 64: two blocks per head
    const uint32_t heads = 4, kv_heads = 2, hd = 64, start = 37, n_ctx = start + rows, q_dim = heads * hd;
    auto q = test::random_floats(size_t(rows) * q_dim, -2, 2);
    auto kc = test::random_floats(size_t(n_ctx) * kv_heads * hd, -2, 2), vc = test::random_floats(size_t(n_ctx) * kv_heads * hd);
    const auto kb = kv_bytes(kc, kv), vb = kv_bytes(vc, kv);
    auto bq = upload(dev, q);
    const AttentionInputs in(dev, start, kb, vb);
    Buffer out(dev, q.size() * 4), xq(dev, q.size()), xds(dev, q.size() / 32 * 8);
    out.fill(test::kPoison);
    xq.fill(test::kPoison);
    ops::Attention op(dev, kv, true);
    CommandStream cs(dev);
    op.record(cs, bq, in.step, in.k, in.v, out, rows, q_dim, q_dim, n_ctx, heads, kv_heads, hd, {&xq, &xds});
    cs.submit_and_wait();
    std::vector<float> ref(q.size());
    ops::attention_ref({heads, kv_heads, hd}, q, start, kc, vc, ref);
    const auto got = download(out, ref.size());
    CHECK(rel_err(got, ref) <= 1e-5);
    check_q8(got, xq, xds, rows, q_dim);
  }
  {  // swiglu, the FFN width of Llama 2 7B
    const uint32_t width = 11008, stride = 2 * width;
    const auto in = test::random_floats(size_t(rows) * stride, -8, 8);
    auto bi = upload(dev, in);
    Buffer out(dev, size_t(rows) * width * 4), xq(dev, size_t(rows) * width), xds(dev, size_t(rows) * width / 32 * 8);
    out.fill(test::kPoison);
    ops::Swiglu op(dev, true);
    CommandStream cs(dev);
    op.record(cs, bi, out, rows, width, stride, width, width, {&xq, &xds});
    cs.submit_and_wait();
    std::vector<float> gate(size_t(rows) * width), up(gate.size()), ref(gate.size());
    for (uint32_t t = 0; t < rows; ++t)
      for (uint32_t i = 0; i < width; ++i) {
        gate[t * width + i] = in[t * stride + i];
        up[t * width + i] = in[t * stride + width + i];
      }
    ops::swiglu_ref(gate, up, ref);
    const auto got = download(out, ref.size());
    CHECK(rel_err(got, ref) <= 1e-6);
    check_q8(got, xq, xds, rows, width);
  }
}

// Decode's RMSNorm folded into the GEMVs around it: the norm's output in
// the deferred form (x * w in 8-bit blocks, unscaled, and a sum of x^2 per
// block), written by rmsnorm_q8_deferred or by the residual GEMV's norm
// epilogue, and read by the GEMV that applies 1/rms.
TEST_CASE("the deferred RMSNorm: rmsnorm_q8_deferred, the GEMV norm and SwiGLU epilogues and the scaled GEMVs", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const float eps = 1e-5f;
  // rmsnorm_q8_deferred, rows at an offset (as the classifier's input).
  for (const uint32_t width : {128u, 4096u}) {
    const uint32_t rows = 3, blocks = width / 32;
    INFO("rmsnorm_q8_deferred width " << width);
    const auto x = test::random_floats(size_t(rows + 1) * width, -3, 3);
    const auto w = test::random_floats(width, 0.5f, 1.5f);
    auto bx = upload(dev, x), bw = upload(dev, w);
    Buffer out(dev, size_t(rows) * width * 4), xq(dev, size_t(rows) * width), xds(dev, size_t(rows) * blocks * 8),
        ss(dev, size_t(rows) * blocks * 4);
    xds.fill(test::kPoison);
    ss.fill(test::kPoison);
    ops::RmsNorm op(dev, true, true);
    CommandStream cs(dev);
    op.record(cs, bx, bw, out, {rows, width, eps, width, width, 0, width}, {&xq, &xds, &ss});
    cs.submit_and_wait();
    std::vector<float> xw(size_t(rows) * width), ss_ref(size_t(rows) * blocks, 0.0f);
    for (size_t i = 0; i < xw.size(); ++i) {
      const float v = x[width + i];
      xw[i] = v * w[i % width];
      ss_ref[i / 32] += v * v;
    }
    check_q8(xw, xq, xds, rows, width);
    CHECK(rel_err(download(ss, ss_ref.size()), ss_ref) <= 1e-5);
    // Without the sums of squares it is refused, as is the deferred form unquantized.
    CHECK_THROWS_AS(op.record(cs, bx, bw, out, {rows, width, eps}, {&xq, &xds}), InputError);
    CHECK_THROWS_AS(ops::RmsNorm(dev, false, true), InputError);
  }
  // The residual GEMV with the norm epilogue, then the scaled GEMV on what
  // it wrote, per weight type with the integer-dot GEMV.
  for (const auto t : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_1}) {
    const std::string name = idot_gemv(t);
    if (name.empty()) continue;
    INFO(name);
    ops::Matmul mm(dev, t, ops::ActType::f32, name);
    // Producer: 256 residual rows (8 blocks) of K = 352; consumer: 70 rows of K = 256.
    const uint32_t M = 256, K = 352, M2 = 70, blocks = M / 32;
    const auto w1 = test::random_weights(t, M, K), w2 = test::random_weights(t, M2, M);
    GpuMatrix W1(dev, t, w1.data(), M, K), W2(dev, t, w2.data(), M2, M);
    const auto h = test::random_floats(K, -2, 2), y0 = test::random_floats(M, -3, 3);
    const auto g = test::random_floats(M, 0.5f, 1.5f);
    auto bh = upload(dev, h), by = upload(dev, y0), by_plain = upload(dev, y0), bg = upload(dev, g);
    Buffer nq(dev, M), nds(dev, blocks * 8), nss(dev, blocks * 4), y2(dev, M2 * 4), y2u(dev, M2 * 4);
    nds.fill(test::kPoison);
    nss.fill(test::kPoison);
    y2.fill(test::kPoison);
    const ops::GemvEpilogue epi{ops::GemvEpilogue::Kind::norm, nq, nds, &nss, &bg};
    REQUIRE(mm.can_fuse(W1, 1, ops::GemvEpilogue::Kind::norm));
    CommandStream cs(dev);
    mm.record(cs, W1, bh, by, 1, 0, 0, 0, true, &epi);
    cs.barrier();  // both quantize h into the matmul's one scratch
    mm.record(cs, W1, bh, by_plain, 1, 0, 0, 0, true);
    cs.barrier();
    mm.record_quantized(cs, W2, nq, nds, y2, 1, 0, 0, false, nullptr, ops::InputScale{&nss, eps});
    mm.record_quantized(cs, W2, nq, nds, y2u, 1);
    cs.submit_and_wait();
    // The residual rows as the GEMV without the epilogue adds them (the same
    // 8-bit activations; only the order of the fp32 sums differs).
    const auto y = download(by, M);
    CHECK(rel_err(y, download(by_plain, M)) <= 1e-5);
    {  // and within 8-bit activation rounding of y0 + W1 h on the CPU
      std::vector<float> wh(M), yref(M);
      ops::matmul_ref(t, w1.data(), M, K, h.data(), 1, K, wh.data());
      for (uint32_t i = 0; i < M; ++i) yref[i] = y0[i] + wh[i];
      CHECK(rel_err(y, yref) <= 0.02);
    }
    // Its blocks: y * g quantized, and the sums of y^2.
    std::vector<float> yg(M), ss_ref(blocks, 0.0f);
    double sum = 0;
    for (uint32_t i = 0; i < M; ++i) {
      yg[i] = y[i] * g[i];
      ss_ref[i / 32] += y[i] * y[i];
      sum += double(y[i]) * y[i];
    }
    check_q8(yg, nq, nds, 1, M);
    CHECK(rel_err(download(nss, blocks), ss_ref) <= 1e-5);
    // Other shapes of the same kernel give the same results.
    auto check_tuned = [&](const ops::MatmulTuning& tn) {
      ops::Matmul tuned(dev, t, ops::ActType::f32, name, tn);
      auto by2 = upload(dev, y0);
      Buffer nq2(dev, M), nds2(dev, blocks * 8), nss2(dev, blocks * 4);
      const ops::GemvEpilogue epi2{ops::GemvEpilogue::Kind::norm, nq2, nds2, &nss2, &bg};
      CommandStream cs2(dev);
      tuned.record(cs2, W1, bh, by2, 1, 0, 0, 0, true, &epi2);
      cs2.submit_and_wait();
      const auto y2s = download(by2, M);
      CHECK(rel_err(y2s, y) <= 1e-5);
      std::vector<float> yg2(M);
      for (uint32_t i = 0; i < M; ++i) yg2[i] = y2s[i] * g[i];
      check_q8(yg2, nq2, nds2, 1, M);
    };
    {  // Small workgroups, one load in flight: several rows per subgroup, several
       // steps per row; and x staged in shared memory (off by default).
      ops::MatmulTuning tn;
      tn.block_wg = 64;
      tn.block_loads = 1;
      tn.block_stage = true;
      check_tuned(tn);
    }
    {  // The residual GEMVs' own setting (the default, 1024 invocations,
       // ran above): 256, 4 loads in flight; and one that only the others take.
      ops::MatmulTuning tn;
      tn.norm_wg = 256;
      tn.norm_loads = 4;
      check_tuned(tn);
      bool made = false;  // the norm GEMV's pipeline at 256 invocations was created
      for (const auto& [spec, k] : dev.kernels())
        made |= spec->variant.starts_with("matvec_idot_norm_") && !spec->spec_constants.empty() && spec->spec_constants[0] == 256;
      CHECK(made);
      ops::MatmulTuning others;
      others.block_wg = 64;
      others.norm_wg = 512;
      check_tuned(others);
    }
    // The scaled GEMV: the unscaled one times 1 / rms ...
    const float inv_rms = float(1.0 / std::sqrt(sum / M + eps));
    auto want = download(y2u, M2);
    for (auto& v : want) v *= inv_rms;
    const auto got = download(y2, M2);
    CHECK(rel_err(got, want) <= 1e-5);
    // ... and within 8-bit activation rounding of W2 rmsnorm(y) on the CPU.
    std::vector<float> normed(M), ref(M2);
    ops::rmsnorm_ref(y, g, eps, normed);
    ops::matmul_ref(t, w2.data(), M2, M, normed.data(), 1, M, ref.data());
    CHECK(rel_err(got, ref) <= 0.02);
    // The gate | up GEMV with the SwiGLU epilogue on the same scaled input
    // (2 x 64 rows: two 32-blocks of h): its rows as the scaled GEMV's, and
    // h = silu(gate) * up of them in 8-bit blocks.
    const uint32_t half = 64;
    const auto wgu = test::random_weights(t, 2 * half, M);
    GpuMatrix GU(dev, t, wgu.data(), 2 * half, M);
    REQUIRE(mm.can_fuse(GU, 1, ops::GemvEpilogue::Kind::swiglu));
    Buffer gu(dev, 2 * half * 4), gu_plain(dev, 2 * half * 4), hq(dev, half), hds(dev, half / 32 * 8);
    gu.fill(test::kPoison);
    hds.fill(test::kPoison);
    const ops::GemvEpilogue sw{ops::GemvEpilogue::Kind::swiglu, hq, hds};
    CommandStream cs_sw(dev);
    mm.record_quantized(cs_sw, GU, nq, nds, gu, 1, 0, 0, false, &sw, ops::InputScale{&nss, eps});
    mm.record_quantized(cs_sw, GU, nq, nds, gu_plain, 1, 0, 0, false, nullptr, ops::InputScale{&nss, eps});
    cs_sw.submit_and_wait();
    const auto gv = download(gu, 2 * half);
    CHECK(rel_err(gv, download(gu_plain, 2 * half)) <= 1e-5);
    std::vector<float> hv(half);
    ops::swiglu_ref(std::span(gv).first(half), std::span(gv).subspan(half), hv);
    check_q8(hv, hq, hds, 1, half);
    // Refused: an input scale for two columns, a norm epilogue on rows that
    // are not whole 32-blocks, a norm epilogue reading a scaled input.
    Buffer nq2(dev, 2 * M), nds2(dev, 2 * blocks * 8), y3(dev, 2 * M2 * 4);
    CHECK_THROWS_AS(mm.record_quantized(cs, W2, nq2, nds2, y3, 2, 0, 0, false, nullptr, ops::InputScale{&nss, eps}),
                    InputError);
    GpuMatrix W3(dev, t, w1.data(), 48, K);
    CHECK_FALSE(mm.can_fuse(W3, 1, ops::GemvEpilogue::Kind::norm));
    CHECK_THROWS_AS(mm.record(cs, W3, bh, by, 1, 0, 0, 0, true, &epi), InputError);
    CHECK_THROWS_AS(mm.record_quantized(cs, W1, nq2, nds2, by, 1, 0, 0, true, &epi, ops::InputScale{&nss, eps}),
                    InputError);
  }
}

TEST_CASE("the one-dispatch FFN (ops::FfnTail) adds down's rows as the two GEMVs do and writes the next norm", "[gpu][kernel][llama_ops][ffn]") {
  auto& dev = test::device();
  const float eps = 1e-5f;
  for (const auto t : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_1}) {
    const std::string name = idot_gemv(t);
    if (name.empty()) continue;
    INFO(name);
    // dim 2304 (more rows than 512 invocations x 4 rows per step), ff 192
    // (six workgroups of gate | up, three with VKQ_FFN_BLOCKS=2).
    const uint32_t D = 2304, F = 192, blocks = D / 32;
    const auto wgu = test::random_weights(t, 2 * F, D), wd = test::random_weights(t, D, F);
    GpuMatrix GU(dev, t, wgu.data(), 2 * F, D), WD(dev, t, wd.data(), D, F);
    ops::Matmul mm(dev, t, ops::ActType::f32, name);
    if (!dev.caps().int64_atomics) {
      CHECK_FALSE(mm.can_fuse_ffn(GU, WD));
      WARN("no 64-bit integer atomics on this device (profile): decode keeps gate/up and down apart");
      continue;
    }
    REQUIRE(mm.can_fuse_ffn(GU, WD));
    // The input: a deferred norm's output of x (rmsnorm_q8_deferred).
    const auto x = test::random_floats(D, -3, 3), w_in = test::random_floats(D, 0.5f, 1.5f);
    const auto y0 = test::random_floats(D, -3, 3), g = test::random_floats(D, 0.5f, 1.5f);
    auto bx = upload(dev, x), bw_in = upload(dev, w_in), bg = upload(dev, g);
    Buffer xn(dev, D * 4), xq(dev, D), xds(dev, blocks * 8), xss(dev, blocks * 4);
    {
      CommandStream cs(dev);
      ops::RmsNorm(dev, true, true).record(cs, bx, bw_in, xn, {1, D, eps}, {&xq, &xds, &xss});
      cs.submit_and_wait();
    }
    const ops::InputScale scale{&xss, eps};
    // The two GEMVs: gate | up with SwiGLU, down with the norm epilogue.
    auto y_two = upload(dev, y0);
    Buffer gu(dev, 2 * F * 4), hq(dev, F), hds(dev, F / 32 * 8), nq_two(dev, D), nds_two(dev, blocks * 8),
        nss_two(dev, blocks * 4);
    {
      const ops::GemvEpilogue sw{ops::GemvEpilogue::Kind::swiglu, hq, hds};
      const ops::GemvEpilogue nm{ops::GemvEpilogue::Kind::norm, nq_two, nds_two, &nss_two, &bg};
      CommandStream cs(dev);
      mm.record_quantized(cs, GU, xq, xds, gu, 1, 0, 0, false, &sw, scale);
      cs.barrier();
      mm.record_quantized(cs, WD, hq, hds, y_two, 1, 0, 0, true, &nm);
      cs.submit_and_wait();
    }
    // The one dispatch, twice (the count must be back at zero after each):
    // y0 + 2 down(h). Its outputs poisoned first.
    auto run = [&](ops::Matmul& m, int times, Buffer& y, Buffer& nq, Buffer& nds, Buffer& nss, Buffer& acc) {
      CommandStream cs(dev);
      for (int i = 0; i < times; ++i) {
        if (i) cs.barrier();
        m.record_ffn(cs, GU, xq, xds, scale, y, {&WD, nq, nds, &nss, &bg, &acc});
      }
      cs.submit_and_wait();
    };
    auto y_one = upload(dev, y0), y_twice = upload(dev, y0);
    Buffer nq(dev, D), nds(dev, blocks * 8), nss(dev, blocks * 4), acc(dev, ops::ffn_acc_bytes(D));
    Buffer nq2(dev, D), nds2(dev, blocks * 8), nss2(dev, blocks * 4);
    for (Buffer* b : {&nds, &nss, &nds2, &nss2}) b->fill(test::kPoison);
    acc.fill(0);
    run(mm, 1, y_one, nq, nds, nss, acc);
    run(mm, 2, y_twice, nq2, nds2, nss2, acc);
    {  // the count, the flag and every sum back at zero
      const auto a = download_u32(acc, ops::ffn_acc_bytes(D) / 4);
      CHECK(std::all_of(a.begin(), a.end(), [](uint32_t w) { return w == 0u; }));
    }
    const auto y = download(y_one, D), yt = download(y_two, D), y2 = download(y_twice, D);
    // The same 8-bit h and down rows; only how the fp32 sums are formed differs.
    CHECK(rel_err(y, yt) <= 1e-5);
    std::vector<float> twice(D);
    for (uint32_t i = 0; i < D; ++i) twice[i] = y0[i] + 2 * (yt[i] - y0[i]);
    CHECK(rel_err(y2, twice) <= 1e-5);
    {  // and within 8-bit rounding of y0 + down(silu(gate) * up) of rmsnorm(x) on the CPU
      std::vector<float> normed(D), guv(2 * F), h(F), dh(D), yref(D);
      ops::rmsnorm_ref(x, w_in, eps, normed);
      ops::matmul_ref(t, wgu.data(), 2 * F, D, normed.data(), 1, D, guv.data());
      ops::swiglu_ref(std::span(guv).first(F), std::span(guv).subspan(F), h);
      ops::matmul_ref(t, wd.data(), D, F, h.data(), 1, F, dh.data());
      for (uint32_t i = 0; i < D; ++i) yref[i] = y0[i] + dh[i];
      CHECK(rel_err(y, yref) <= 0.02);
    }
    // The next norm's input from the finished residual: y * g in 8-bit
    // blocks and the sums of y^2, for one and for two runs.
    for (const auto* c : {&y, &y2}) {
      const auto& yy = *c;
      const Buffer& bq = c == &y ? nq : nq2;
      const Buffer& bd = c == &y ? nds : nds2;
      const Buffer& bs = c == &y ? nss : nss2;
      std::vector<float> yg(D), ss_ref(blocks, 0.0f);
      for (uint32_t i = 0; i < D; ++i) {
        yg[i] = yy[i] * g[i];
        ss_ref[i / 32] += yy[i] * yy[i];
      }
      check_q8(yg, bq, bd, 1, D);
      CHECK(rel_err(download(bs, blocks), ss_ref) <= 1e-5);
    }
    // One run of m's FFN on the residual y0: the residual against `want`
    // (the same sums but for fp32 rounding), and its next norm's blocks.
    auto run_checked = [&](ops::Matmul& m, std::span<const float> want) {
      auto yb = upload(dev, y0);
      Buffer nqb(dev, D), ndsb(dev, blocks * 8), nssb(dev, blocks * 4);
      ndsb.fill(test::kPoison);
      run(m, 1, yb, nqb, ndsb, nssb, acc);
      const auto yv = download(yb, D);
      CHECK(rel_err(yv, want) <= 1e-5);
      std::vector<float> yg(D);
      for (uint32_t i = 0; i < D; ++i) yg[i] = yv[i] * g[i];
      check_q8(yg, nqb, ndsb, 1, D);
      return yv;
    };
    {  // The same sums in any order: a second run gives the same bits.
      const auto ybv = run_checked(mm, y);
      CHECK(std::memcmp(ybv.data(), y.data(), D * sizeof(float)) == 0);
    }
    {  // A share out of the fixed point's range (norm weights of 1e5: h near
       // 1e12) makes the residual NaN, and the sums still go back to zero.
      const std::vector<float> w_big(D, 1e5f);
      auto bxb = upload(dev, x), bw_big = upload(dev, w_big);
      Buffer xqb(dev, D), xdsb(dev, blocks * 8), xssb(dev, blocks * 4), xnb(dev, D * 4);
      auto yb = upload(dev, y0);
      Buffer nqb(dev, D), ndsb(dev, blocks * 8), nssb(dev, blocks * 4);
      CommandStream cs(dev);
      ops::RmsNorm(dev, true, true).record(cs, bxb, bw_big, xnb, {1, D, eps}, {&xqb, &xdsb, &xssb});
      cs.barrier();
      mm.record_ffn(cs, GU, xqb, xdsb, {&xssb, eps}, yb, {&WD, nqb, ndsb, &nssb, &bg, &acc});
      cs.submit_and_wait();
      const auto ybv = download(yb, D);
      CHECK(std::all_of(ybv.begin(), ybv.end(), [](float v) { return std::isnan(v); }));
      const auto a = download_u32(acc, ops::ffn_acc_bytes(D) / 4);
      CHECK(std::all_of(a.begin(), a.end(), [](uint32_t w) { return w == 0u; }));
    }
    {  // Two blocks of h per workgroup (VKQ_FFN_BLOCKS=2): the same sums but
       // for the fp32 rounding of each workgroup's share; four do not divide
       // six blocks; others are refused.
      const test::Env e2("VKQ_FFN_BLOCKS", "2");
      ops::Matmul m2(dev, t, ops::ActType::f32, name);
      REQUIRE(m2.can_fuse_ffn(GU, WD));
      run_checked(m2, y);
      {  // and with down's first loads issued early
        const test::Env ee("VKQ_FFN_EARLY", "1");
        ops::Matmul me(dev, t, ops::ActType::f32, name);
        run_checked(me, y);
        const test::Env ej("VKQ_FFN_EARLY", "2");
        CHECK_THROWS_AS(ops::Matmul(dev, t, ops::ActType::f32, name), InputError);
      }
      const test::Env e4("VKQ_FFN_BLOCKS", "4");
      CHECK_FALSE(ops::Matmul(dev, t, ops::ActType::f32, name).can_fuse_ffn(GU, WD));
      const test::Env e3("VKQ_FFN_BLOCKS", "3");
      CHECK_THROWS_AS(ops::Matmul(dev, t, ops::ActType::f32, name), InputError);
    }
    {  // 64 invocations: many rows of down per invocation.
      ops::MatmulTuning tn;
      tn.block_wg = 64;
      ops::Matmul small(dev, t, ops::ActType::f32, name, tn);
      run_checked(small, yt);
    }
    // Refused: shapes that do not chain (down's columns not gate | up's
    // half, its rows not gate | up's K), no input scale, another type.
    GpuMatrix WD2(dev, t, wd.data(), D - 32, F);
    CHECK_FALSE(mm.can_fuse_ffn(GU, WD2));
    GpuMatrix GU2(dev, t, wgu.data(), 2 * F - 64, D);  // rows 2 x 160: down's 192 columns are not half
    CHECK_FALSE(mm.can_fuse_ffn(GU2, WD));
    CommandStream cs(dev);
    CHECK_THROWS_AS(mm.record_ffn(cs, GU, xq, xds, {}, y_one, {&WD, nq, nds, &nss, &bg, &acc}), InputError);
    CHECK_THROWS_AS(mm.record_ffn(cs, GU, xq, xds, scale, y_one, {&WD2, nq, nds, &nss, &bg, &acc}), InputError);
    const auto wf = test::random_weights(GgmlType::F16, D, F);
    GpuMatrix WF(dev, GgmlType::F16, wf.data(), D, F);
    CHECK_FALSE(mm.can_fuse_ffn(GU, WF));
  }
}

TEST_CASE("rope_kv matches rope_ref and writes the caches", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const auto kv = GENERATE(ops::KvType::f32, ops::KvType::f16);
  struct Case { uint32_t heads, kv_heads, head_dim, rope_dims; bool factors; };
  const auto c = GENERATE(Case{8, 4, 8, 8, false}, Case{4, 4, 64, 64, false}, Case{6, 2, 16, 8, true},
                          Case{32, 8, 128, 128, true});
  const uint32_t n = GENERATE(1u, 5u);
  const uint32_t start = GENERATE(0u, 300u);
  const uint32_t n_ctx = 320, q_dim = c.heads * c.head_dim, kv_dim = c.kv_heads * c.head_dim;
  const uint32_t stride = q_dim + 2 * kv_dim + 2;  // padded, as a stacked matrix's row may be
  const float base = 10000.0f;
  const auto qkv = test::random_floats(size_t(n) * stride);
  std::vector<float> factors;
  if (c.factors) factors = test::random_floats(c.rope_dims / 2, 1.0f, 8.0f);
  ops::RopeShape s{c.heads, c.kv_heads, c.head_dim, c.rope_dims, base, uint32_t(factors.size())};

  auto bq = upload(dev, qkv);
  Buffer step(dev, 16, MemoryKind::host), freq(dev, std::max<size_t>(factors.size(), 1) * 4);
  const uint32_t sp[4] = {start, 0, 0, 0};
  step.upload(sp, 16);
  if (!factors.empty()) freq.upload(std::span<const float>(factors));
  const uint64_t cache_bytes = uint64_t(n_ctx) * kv_dim * ops::kv_bytes_per_element(kv);
  Buffer kc(dev, cache_bytes), vc(dev, cache_bytes);
  kc.fill(test::kPoison);
  vc.fill(test::kPoison);
  ops::RopeKv op(dev, kv);
  CommandStream cs(dev);
  op.record(cs, bq, step, freq, kc, vc, n, stride, n_ctx, s);
  cs.submit_and_wait();
  const auto got_q = download(bq, qkv.size());
  const auto got_k = kv_floats(kc, size_t(n_ctx) * kv_dim, kv);
  const auto got_v = kv_floats(vc, size_t(n_ctx) * kv_dim, kv);
  // fp32 on the GPU against fp64: theta = pos * base^(-2i/d) carries an
  // error of about pos * 2^-24 rad (and as much again from pow and cos/sin).
  const double rope_tol = 1e-5 + (start + n) * 1.2e-7;
  const double tol = kv == ops::KvType::f16 ? 2e-3 : rope_tol;
  INFO("heads " << c.heads << "/" << c.kv_heads << " head_dim " << c.head_dim << " n " << n << " start " << start
                << " kv " << ops::kv_type_name(kv));
  for (uint32_t t = 0; t < n; ++t) {
    std::vector<float> q(qkv.begin() + t * stride, qkv.begin() + t * stride + q_dim);
    std::vector<float> k(qkv.begin() + t * stride + q_dim, qkv.begin() + t * stride + q_dim + kv_dim);
    const std::span<const float> v(qkv.data() + t * stride + q_dim + kv_dim, kv_dim);
    ops::rope_ref(q, c.head_dim, c.rope_dims, start + t, base, factors);
    ops::rope_ref(k, c.head_dim, c.rope_dims, start + t, base, factors);
    CHECK(rel_err(std::span(got_q).subspan(t * stride, q_dim), q) <= rope_tol);
    // k and v are untouched in qkv; the cache rows hold them.
    CHECK(rel_err(std::span(got_q).subspan(t * stride + q_dim, 2 * kv_dim),
                  std::span(qkv).subspan(t * stride + q_dim, 2 * kv_dim)) == 0);
    CHECK(rel_err(std::span(got_k).subspan((start + t) * kv_dim, kv_dim), k) <= tol);
    CHECK(rel_err(std::span(got_v).subspan((start + t) * kv_dim, kv_dim), v) <= tol);
  }
}

TEST_CASE("attention matches attention_ref", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const auto kv = GENERATE(ops::KvType::f32, ops::KvType::f16);
  struct Case { uint32_t heads, kv_heads, head_dim; };
  const auto c = GENERATE(Case{8, 4, 8}, Case{4, 1, 64}, Case{2, 2, 128}, Case{4, 2, 256});
  // 40 tokens: tiles of 16 and 8 queries with a partial last one.
  const uint32_t n = GENERATE(1u, 7u, 40u);
  const uint32_t start = GENERATE(0u, 1u, 200u);
  // The query-tiled kernel (where its tile fits) and the one-token kernel;
  // the cooperative-matrix kernel has a test of its own below.
  const bool tiled = GENERATE(true, false);
  const test::Env scalar_only("VKQ_PREFILL_ATTENTION", "tiled");
  const uint32_t n_ctx = start + n + 3, q_dim = c.heads * c.head_dim, kv_dim = c.kv_heads * c.head_dim;
  const uint32_t q_stride = q_dim + 6;
  auto q = test::random_floats(size_t(n) * q_stride, -2, 2);
  auto kc = test::random_floats(size_t(n_ctx) * kv_dim, -2, 2), vc = test::random_floats(size_t(n_ctx) * kv_dim);
  const auto kb = kv_bytes(kc, kv), vb = kv_bytes(vc, kv);  // rounds kc, vc for fp16
  std::vector<float> qd(size_t(n) * q_dim), ref(size_t(n) * q_dim);
  for (uint32_t t = 0; t < n; ++t) std::copy_n(q.begin() + t * q_stride, q_dim, qd.begin() + t * q_dim);
  ops::attention_ref({c.heads, c.kv_heads, c.head_dim}, qd, start, kc, vc, ref);

  auto bq = upload(dev, q);
  const AttentionInputs in(dev, start, kb, vb);
  Buffer out(dev, size_t(n) * q_dim * 4);
  out.fill(test::kPoison);
  ops::Attention op(dev, kv, false, false, 1, tiled);
  CommandStream cs(dev);
  op.record(cs, bq, in.step, in.k, in.v, out, n, q_stride, q_dim, n_ctx, c.heads, c.kv_heads, c.head_dim);
  cs.submit_and_wait();
  const auto tile = ops::attention_tile(dev.caps(), c.head_dim, kv);
  INFO("heads " << c.heads << "/" << c.kv_heads << " head_dim " << c.head_dim << " n " << n << " start " << start
                << " kv " << ops::kv_type_name(kv) << (tiled && tile ? fmt::format(" tile {}x{} rows, {} invocations",
                                                                                 tile->queries, tile->rows, tile->wg)
                                                                   : std::string(" one token per workgroup")));
  // fp32 online softmax against the fp64 two-pass reference.
  CHECK(rel_err(download(out, ref.size()), ref) <= 1e-5);
  // The kernel checked is the one asked for: on the device without a
  // profile (lavapipe: 32 KiB of shared memory or more) every head size up
  // to 128 has a tile, so the tiled kernel ran there.
  const bool tiled_ran = op.variant_for(c.head_dim).rfind("attention_tiled_", 0) == 0;
  CHECK(tiled_ran == (tiled && tile.has_value()));
  const char* profile = std::getenv("VKQ_DEVICE_PROFILE");
  if (tiled && c.head_dim <= 128 && (!profile || !*profile)) CHECK(tiled_ran);
}

TEST_CASE("attention on cooperative matrices (prefill, fp16 cache) matches attention_ref", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  // The real kernel where the device lists 16x16x16 fp16 matrices, its
  // emulated build elsewhere (lavapipe): the same tiling, masks and passes.
  const test::Env forced("VKQ_PREFILL_ATTENTION", "coopmat");
  struct Case { uint32_t heads, kv_heads, head_dim; };
  const auto c = GENERATE(Case{4, 2, 32}, Case{4, 1, 64}, Case{2, 2, 128}, Case{2, 1, 256});
  // n 77: several workgroups and 16-query blocks, the last ones partial;
  // spare 0: the last token's row is the cache's last, whose 16-row group
  // runs past the end; tiles of 1 and 2 blocks per workgroup, 32 and 64
  // rows per chunk besides the default (emulated on lavapipe: 1 x 32 at
  // head_dim 128).
  struct Run { uint32_t n, start, spare; bool quant_out; const char* tile; };
  const auto run = GENERATE(Run{1, 0, 0, false, nullptr}, Run{7, 1, 3, true, nullptr}, Run{40, 0, 3, false, nullptr},
                            Run{77, 200, 0, true, nullptr}, Run{77, 0, 0, false, "1,32"}, Run{40, 200, 3, true, "2,64"},
                            Run{77, 33, 0, false, "2,32"});
  const uint32_t n = run.n, start = run.start, spare = run.spare;
  const bool quant_out = run.quant_out;
  const char* tile_env = run.tile;
  std::optional<test::Env> tile_set;
  if (tile_env) tile_set.emplace("VKQ_ATTENTION_COOPMAT_TILE", tile_env);
  const uint32_t n_ctx = start + n + spare, q_dim = c.heads * c.head_dim, kv_dim = c.kv_heads * c.head_dim;
  const uint32_t q_stride = q_dim + 8;
  auto q = test::random_floats(size_t(n) * q_stride, -2, 2);
  auto kc = test::random_floats(size_t(n_ctx) * kv_dim, -2, 2), vc = test::random_floats(size_t(n_ctx) * kv_dim);
  const auto kb = kv_bytes(kc, ops::KvType::f16), vb = kv_bytes(vc, ops::KvType::f16);  // rounds kc, vc
  std::vector<float> qd(size_t(n) * q_dim), ref(size_t(n) * q_dim);
  for (uint32_t t = 0; t < n; ++t) std::copy_n(q.begin() + t * q_stride, q_dim, qd.begin() + t * q_dim);
  ops::attention_ref({c.heads, c.kv_heads, c.head_dim}, qd, start, kc, vc, ref);

  auto bq = upload(dev, q);
  const AttentionInputs in(dev, start, kb, vb);
  Buffer out(dev, size_t(n) * q_dim * 4), xq(dev, size_t(n) * q_dim), xds(dev, size_t(n) * q_dim / 32 * 8);
  out.fill(test::kPoison);
  xds.fill(test::kPoison);
  std::optional<ops::Attention> op;
  try {
    op.emplace(dev, ops::KvType::f16, quant_out);
  } catch (const DeviceError& e) {
    SKIP("no cooperative-matrix attention variant runs here: " << e.what());
  }
  const bool emulated = op->coopmat_variant().ends_with("_emulated");
  std::optional<ops::AttentionCoopmatTile> tile;
  try {
    tile = ops::attention_coopmat_tile(dev.caps(), c.head_dim, quant_out, emulated);
  } catch (const InputError&) {  // a forced tile that does not fit this head size here
    CHECK_THROWS_AS(op->variant_for(c.head_dim), InputError);
    return;
  }
  INFO("heads " << c.heads << "/" << c.kv_heads << " head_dim " << c.head_dim << " n " << n << " start " << start
                << " n_ctx " << n_ctx << " q8 " << quant_out << " variant " << op->variant_for(c.head_dim)
                << (tile ? fmt::format(" tile {} x 16 queries, {} rows, {} invocations", tile->nsub, tile->rows, tile->wg)
                         : std::string(" (no tile fits: the scalar kernels)")));
  // Where a tile fits, the kernel asked for runs; by default a tile is
  // chosen wherever the smallest candidate fits (lavapipe's 32 KiB: up to
  // head_dim 128; a 16 KiB profile: up to 64).
  CHECK(op->variant_for(c.head_dim).starts_with("attention_coopmat_") == tile.has_value());
  const bool smallest_fits =
      ops::attention_coopmat_shared_bytes({0, 1, 32}, c.head_dim, emulated) <= dev.caps().max_shared_memory;
  if (!tile_env) CHECK(tile.has_value() == smallest_fits);
  CommandStream cs(dev);
  op->record(cs, bq, in.step, in.k, in.v, out, n, q_stride, q_dim, n_ctx, c.heads, c.kv_heads, c.head_dim,
             quant_out ? ops::QuantizedActivations{&xq, &xds} : ops::QuantizedActivations{});
  cs.submit_and_wait();
  const auto got = download(out, ref.size());
  // q * scale, k, v and the weights p in fp16 (2^-11 relative each), sums
  // in fp32: measured up to ~1e-3 of the largest output on lavapipe.
  CHECK(rel_err(got, ref) <= (tile ? 4e-3 : 1e-5));
  if (quant_out) check_q8(got, xq, xds, n, q_dim);
}

TEST_CASE("attention_coopmat_tile: the first tile that fits, the head sizes it takes, the tuning variable", "[llama_ops]") {
  DeviceCaps caps;
  caps.name = "caps";
  caps.subgroup_size = caps.min_subgroup_size = caps.max_subgroup_size = 32;
  caps.max_workgroup_invocations = 1024;
  caps.max_workgroup_size = {1024, 1024, 64};
  caps.max_shared_memory = 49152;
  auto tile = [&](uint32_t hd, bool q8 = false, bool emulated = false) {
    const auto t = ops::attention_coopmat_tile(caps, hd, q8, emulated);
    if (t) CHECK(ops::attention_coopmat_shared_bytes(*t, hd, emulated) <= caps.max_shared_memory);
    return t ? fmt::format("{}x{}x{}", t->wg, t->nsub, t->rows) : std::string("none");
  };
  CHECK(tile(128) == "128x4x32");  // 33,792 bytes: q in the K / V chunk
  CHECK(ops::attention_coopmat_shared_bytes({128, 4, 32}, 128, false) == 33792);
  CHECK(tile(128, false, true) == "64x2x32");  // emulated, q besides: 34,304 bytes (4 x 32: 51,200)
  CHECK(tile(256) == "64x2x32");               // 41,984 bytes (4 x 32: 50,176)
  CHECK(tile(48) == "128x4x32");
  CHECK(tile(48, true) == "none");  // an 8-bit output needs whole 32-blocks per head
  CHECK(tile(40) == "none");
  CHECK(tile(512) == "none");
  caps.max_subgroup_size = 64;  // room for the widest subgroups the driver may pick
  CHECK(tile(128) == "256x4x32");
  caps.max_workgroup_invocations = 128;
  CHECK(tile(128) == "128x2x64");
  {
    const test::Env e("VKQ_ATTENTION_COOPMAT_TILE", "1,64");
    CHECK(tile(128) == "64x1x64");
  }
  for (const char* bad : {"4", "0,32", "4,24", "4,16", "17,32", "x,y", "4,512"}) {
    const test::Env e("VKQ_ATTENTION_COOPMAT_TILE", bad);
    CHECK_THROWS_AS(ops::attention_coopmat_tile(caps, 128, false, false), InputError);
  }
  const test::Env big("VKQ_ATTENTION_COOPMAT_TILE", "8,256");  // does not fit: refused, not shrunk
  CHECK_THROWS_AS(ops::attention_coopmat_tile(caps, 128, false, false), InputError);
}

TEST_CASE("attention_tile takes the largest query tile whose shared memory fits, and none where none does", "[llama_ops]") {
  DeviceCaps caps;
  caps.max_workgroup_invocations = 1024;
  caps.max_workgroup_size = {1024, 1024, 64};
  caps.max_shared_memory = 49152;
  auto tile = [&](uint32_t hd, ops::KvType kv) {
    const auto t = ops::attention_tile(caps, hd, kv);
    if (t) CHECK(ops::attention_tile_shared_bytes(*t, hd, kv) <= caps.max_shared_memory);
    return t ? fmt::format("{}x{}x{}", t->wg, t->queries, t->rows) : std::string("none");
  };
  CHECK(tile(128, ops::KvType::f16) == "256x16x64");  // 47,680 bytes
  CHECK(tile(128, ops::KvType::f32) == "128x16x32");  // 44,608 bytes (256 x 16 x 64: 66,560)
  CHECK(tile(64, ops::KvType::f16) == "256x16x64");
  CHECK(tile(256, ops::KvType::f32) == "32x8x16");
  caps.max_shared_memory = 16384;
  CHECK(tile(64, ops::KvType::f16) == "128x16x32");  // 15,680 bytes
  CHECK(tile(128, ops::KvType::f16) == "32x8x16");
  CHECK(tile(256, ops::KvType::f32) == "none");      // the one-token kernel then
  caps.max_shared_memory = 49152;
  caps.max_workgroup_invocations = 64;
  CHECK(tile(128, ops::KvType::f16) == "64x16x16");
}

TEST_CASE("attention with fused RoPE and KV write (decode) matches rope_ref + attention_ref", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const auto kv = GENERATE(ops::KvType::f32, ops::KvType::f16);
  struct Case { uint32_t heads, kv_heads, head_dim, rope_dims; bool factors; };
  // Heads of 256: two pairs per invocation in attention_decode.comp.
  const auto c = GENERATE(Case{8, 4, 8, 8, false}, Case{4, 1, 64, 32, true}, Case{2, 2, 128, 128, false},
                          Case{2, 1, 256, 128, true});
  const uint32_t start = GENERATE(0u, 1u, 130u);
  // Split counts: one workgroup per head; more splits than rows (empty
  // splits); and the split the forward pass would choose at this context.
  const uint32_t splits = GENERATE(1u, 7u, 64u);
  const uint32_t n_ctx = start + 5, q_dim = c.heads * c.head_dim, kv_dim = c.kv_heads * c.head_dim;
  const uint32_t stride = q_dim + 2 * kv_dim;
  const float base = 10000.0f;
  std::vector<float> factors;
  if (c.factors) factors = test::random_floats(c.rope_dims / 2, 1.0f, 8.0f);
  const ops::RopeShape rope{c.heads, c.kv_heads, c.head_dim, c.rope_dims, base, uint32_t(factors.size())};
  const auto qkv = test::random_floats(stride, -2, 2);
  // Cache rows before `start` hold earlier tokens (rounded for fp16).
  auto kc = test::random_floats(size_t(n_ctx) * kv_dim, -2, 2), vc = test::random_floats(size_t(n_ctx) * kv_dim);
  // Rows past it hold anything, NaNs too: never attended to (a row loaded
  // and weighed 0 would still turn the output into NaN).
  for (size_t i = size_t(start + 1) * kv_dim; i < kc.size(); ++i) kc[i] = vc[i] = std::nanf("");
  const auto kb = kv_bytes(kc, kv), vb = kv_bytes(vc, kv);
  auto bq = upload(dev, qkv);
  Buffer step(dev, 16, MemoryKind::host), freq(dev, std::max<size_t>(factors.size(), 1) * 4), bk(dev, kb.size()),
      bv(dev, vb.size()), out(dev, q_dim * 4);
  const uint32_t sp[4] = {start, 0, 0, 0};
  step.upload(sp, 16);
  if (!factors.empty()) freq.upload(std::span<const float>(factors));
  bk.upload(kb.data(), kb.size());
  bv.upload(vb.data(), vb.size());
  out.fill(test::kPoison);
  ops::Attention op(dev, kv, false, true, splits);
  // attention_decode.comp where the (profile-masked) device has subgroup
  // arithmetic, attention.comp's fused-rope kernel where not.
  CHECK(op.variant_for(c.head_dim).ends_with("_subgroup") == dev.caps().subgroup_arith);
  Buffer part(dev, ops::attention_part_bytes(c.heads, c.head_dim, splits)), count(dev, ops::attention_count_bytes(c.heads));
  part.fill(test::kPoison);
  count.fill(0);
  CommandStream cs(dev);
  // Twice (the second must find the counts reset by the first), with the
  // cache restored in between so both see the same rows.
  op.record_rope(cs, bq, step, freq, bk, bv, out, part, count, stride, n_ctx, rope);
  cs.submit_and_wait();
  CHECK(download_u32(count, c.heads) == std::vector<uint32_t>(c.heads, 0));
  const auto first = download(out, q_dim);
  bk.upload(kb.data(), kb.size());
  bv.upload(vb.data(), vb.size());
  out.fill(test::kPoison);
  CommandStream cs2(dev);
  op.record_rope(cs2, bq, step, freq, bk, bv, out, part, count, stride, n_ctx, rope);
  cs2.submit_and_wait();
  CHECK(download(out, q_dim) == first);
  // Reference: rope on q and k at `start`, the token's k and v into row
  // `start` (unrounded: the kernel attends to them from registers), attention.
  std::vector<float> q(qkv.begin(), qkv.begin() + q_dim), k(qkv.begin() + q_dim, qkv.begin() + q_dim + kv_dim);
  const std::span<const float> v(qkv.data() + q_dim + kv_dim, kv_dim);
  ops::rope_ref(q, c.head_dim, c.rope_dims, start, base, factors);
  ops::rope_ref(k, c.head_dim, c.rope_dims, start, base, factors);
  auto kr = kc, vr = vc;
  std::copy(k.begin(), k.end(), kr.begin() + size_t(start) * kv_dim);
  std::copy(v.begin(), v.end(), vr.begin() + size_t(start) * kv_dim);
  std::vector<float> ref(q_dim);
  ops::attention_ref({c.heads, c.kv_heads, c.head_dim}, q, start, kr, vr, ref);
  INFO("heads " << c.heads << "/" << c.kv_heads << " head_dim " << c.head_dim << " start " << start << " kv "
                << ops::kv_type_name(kv) << " splits " << splits << " variant " << op.variant_for(c.head_dim));
  CHECK(rel_err(download(out, q_dim), ref) <= 2e-5);
  // The cache row `start` now holds the rotated k and the v.
  const auto got_k = kv_floats(bk, size_t(n_ctx) * kv_dim, kv), got_v = kv_floats(bv, size_t(n_ctx) * kv_dim, kv);
  const double tol = kv == ops::KvType::f16 ? 2e-3 : 2e-5;
  CHECK(rel_err(std::span(got_k).subspan(size_t(start) * kv_dim, kv_dim), k) <= tol);
  CHECK(rel_err(std::span(got_v).subspan(size_t(start) * kv_dim, kv_dim), v) <= tol);
  // Rows before it are untouched.
  if (start) CHECK(rel_err(std::span(got_k).first(size_t(start) * kv_dim), std::span(kc).first(size_t(start) * kv_dim)) == 0);
  if (c.head_dim % 32 == 0) {
    // The variant with 8-bit output blocks (decode's attn_output GEMV input):
    // the same values, and blocks that decode to them.
    ops::Attention op_q8(dev, kv, true, true, splits);
    Buffer xq(dev, q_dim), xds(dev, q_dim / 32 * 8);
    xq.fill(test::kPoison);
    xds.fill(test::kPoison);
    out.fill(test::kPoison);
    bk.upload(kb.data(), kb.size());
    bv.upload(vb.data(), vb.size());
    CommandStream cs3(dev);
    op_q8.record_rope(cs3, bq, step, freq, bk, bv, out, part, count, stride, n_ctx, rope, {&xq, &xds});
    cs3.submit_and_wait();
    const auto got = download(out, q_dim);
    CHECK(rel_err(got, ref) <= 2e-5);
    check_q8(got, xq, xds, 1, q_dim);
    CHECK(download_u32(count, c.heads) == std::vector<uint32_t>(c.heads, 0));
  }
}

TEST_CASE("swiglu matches swiglu_ref", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const uint32_t width = GENERATE(1u, 172u, 11008u);
  const uint32_t n = GENERATE(1u, 9u);
  const uint32_t stride = 2 * width + 4;
  const auto in = test::random_floats(size_t(n) * stride, -8, 8);
  std::vector<float> gate(size_t(n) * width), up(size_t(n) * width), ref(size_t(n) * width);
  for (uint32_t t = 0; t < n; ++t)
    for (uint32_t i = 0; i < width; ++i) {
      gate[t * width + i] = in[t * stride + i];
      up[t * width + i] = in[t * stride + width + 2 + i];
    }
  ops::swiglu_ref(gate, up, ref);
  auto bi = upload(dev, in);
  Buffer out(dev, ref.size() * 4);
  out.fill(test::kPoison);
  ops::Swiglu op(dev);
  CommandStream cs(dev);
  op.record(cs, bi, out, n, width, stride, width + 2, width);
  cs.submit_and_wait();
  CHECK(rel_err(download(out, ref.size()), ref) <= 1e-6);
  // swiglu_f16 (prefill, for a GEMM on fp16 activations): ConvertF16 of
  // the fp32 output, bit for bit, with an output stride past the width.
  if (width % 2 == 0) {
    const uint32_t ostride = width + 4;
    Buffer h(dev, size_t(n) * ostride * 2);
    h.fill(test::kPoison);
    CommandStream cs2(dev);
    ops::Swiglu(dev, false, ops::ActType::f16).record(cs2, bi, h, n, width, stride, width + 2, ostride);
    cs2.submit_and_wait();
    const auto want = converted_f16(dev, out, ref.size() + (4 - ref.size() % 4) % 4);
    const auto got = download_u32(h, size_t(n) * ostride / 2);
    size_t diff = 0;
    for (uint32_t t = 0; t < n; ++t) {
      for (uint32_t i = 0; i < width / 2; ++i) diff += got[t * ostride / 2 + i] != want[t * width / 2 + i];
      CHECK(got[t * ostride / 2 + width / 2] == test::kPoison);  // the stride's gap untouched
    }
    CHECK(diff == 0);
    CHECK_THROWS_AS(ops::Swiglu(dev, false, ops::ActType::f16).record(cs2, bi, h, n, width, stride, width + 2, ostride + 1),
                    InputError);
  }
  CHECK_THROWS_AS(ops::Swiglu(dev, true, ops::ActType::f16), InputError);
}

TEST_CASE("fill_random writes every word, finite where asked", "[gpu][kernel][llama_ops]") {
  auto& dev = test::device();
  const uint64_t words = GENERATE(1ull, 1000ull, 65535ull * 256ull + 7ull);
  Buffer b(dev, words * 4);
  b.fill(test::kPoison);
  ops::FillRandom op(dev);
  for (const auto mode : {ops::FillRandom::Mode::bits, ops::FillRandom::Mode::f32, ops::FillRandom::Mode::f16,
                          ops::FillRandom::Mode::f32_near_one, ops::FillRandom::Mode::bf16}) {
    CommandStream cs(dev);
    op.record(cs, b, words, 7, mode, 0.5f);
    cs.submit_and_wait();
    std::vector<uint32_t> w(words);
    b.download(std::span<uint32_t>(w));
    INFO("mode " << uint32_t(mode) << " words " << words);
    size_t poisoned = 0, bad = 0;
    for (const uint32_t u : w) {
      poisoned += u == test::kPoison;
      if (mode == ops::FillRandom::Mode::f32 || mode == ops::FillRandom::Mode::f32_near_one) {
        float f;
        std::memcpy(&f, &u, 4);
        const float lo = mode == ops::FillRandom::Mode::f32 ? -0.5f : 0.5f, hi = lo + 1.0f;
        bad += !(f >= lo && f <= hi);
      } else if (mode == ops::FillRandom::Mode::f16) {
        for (const uint16_t h : {uint16_t(u), uint16_t(u >> 16)}) bad += !(std::fabs(fp16_to_fp32(h)) <= 0.5f);
      } else if (mode == ops::FillRandom::Mode::bf16) {
        for (const uint32_t h : {u << 16, u & 0xffff0000u}) {
          float f;
          std::memcpy(&f, &h, 4);
          bad += !(std::fabs(f) <= 0.5f);
        }
      }
    }
    CHECK(poisoned == 0);
    CHECK(bad == 0);
    if (words == 1000) {
      // Not constant: distinct words (a hash collision or two is fine).
      std::sort(w.begin(), w.end());
      CHECK(std::unique(w.begin(), w.end()) - w.begin() > int64_t(words * 9 / 10));
    }
  }
}
