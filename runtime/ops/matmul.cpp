#include "ops/matmul.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "common/push_constants.h"
#include "error.hpp"
#include "kernel.hpp"
#include "quant_blocks.hpp"
#include "variant_select.hpp"

namespace vkq::ops {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

constexpr uint32_t kMaxGemvCols = 8;

}  // namespace

std::string matmul_op(const char* kind, GgmlType t, ActType a) {
  return fmt::format("{}_{}_{}", kind, lower(ggml_type_name(t)), a == ActType::f16 ? "f16" : "f32");
}

std::string dequant_op(GgmlType t) { return "dequant_f16_" + lower(ggml_type_name(t)); }

void matmul_ref(GgmlType t, const void* w, uint32_t M, uint32_t K, const float* x, uint32_t n, uint32_t x_stride,
                float* y) {
  const auto row_bytes = ggml_row_bytes(t, K);
  if (!row_bytes) throw InputError("matmul_ref: K is not a whole number of blocks");
  if (x_stride == 0) x_stride = K;
  std::vector<float> row(K);
  for (uint32_t i = 0; i < M; ++i) {
    dequantize_row(t, static_cast<const uint8_t*>(w) + uint64_t(i) * *row_bytes, row.data(), K);
    for (uint32_t j = 0; j < n; ++j) {
      double acc = 0;
      const float* xj = x + uint64_t(j) * x_stride;
      for (uint32_t k = 0; k < K; ++k) acc += double(row[k]) * double(xj[k]);
      y[uint64_t(j) * M + i] = static_cast<float>(acc);
    }
  }
}

std::vector<uint8_t> activation_bytes(std::vector<float>& x, ActType act) {
  if (act == ActType::f32)
    return {reinterpret_cast<const uint8_t*>(x.data()), reinterpret_cast<const uint8_t*>(x.data() + x.size())};
  std::vector<uint16_t> h(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    h[i] = fp32_to_fp16(x[i]);
    x[i] = fp16_to_fp32(h[i]);
  }
  return {reinterpret_cast<const uint8_t*>(h.data()), reinterpret_cast<const uint8_t*>(h.data() + h.size())};
}

Matmul::Matmul(Device& device, GgmlType wtype, ActType act, std::string forced, MatmulTuning tuning)
    : device_(device), wtype_(wtype), act_(act), gemm_tuning_(tuning.gemm) {
  if (!ggml_type_info(wtype).supported) throw InputError(fmt::format("{}: not supported yet", ggml_type_name(wtype)));
  const std::string gemm_op = matmul_op("matmul", wtype, act);
  const bool forced_gemm = !forced.empty() && forced.rfind(gemm_op + "_", 0) == 0;
  if (const char* order = std::getenv("VKQ_GEMM_ORDER"); order && *order) {
    if (std::string(order) != "rows" && std::string(order) != "cols")
      throw InputError(fmt::format("VKQ_GEMM_ORDER='{}': expected rows or cols", order));
    gemm_tuning_.order = std::string(order) == "cols" ? GemmTuning::kColsFirst : GemmTuning::kRowsFirst;
  }
  if (forced.empty() || forced_gemm) {
    gemm_variant_ = select_variant(device, gemm_op, forced);
    gemm_min_n_ = forced_gemm ? 1 : kMaxGemvCols + 1;
    coopmat_ = gemm_variant_.find("_coopmat") != std::string::npos;  // _coopmat and its test-only _coopmat_emulated
    cm2_ = gemm_variant_.ends_with("_cm2");
    // Fail early where nothing fits or the tuning names no tile.
    if (cm2_) cm2_gemm_config(device.caps(), 1, gemm_min_n_, gemm_tuning_);
    else if (!coopmat_) tiled_gemm_config(device.caps(), gemm_min_n_, gemm_tuning_);
  }
  gemv_variant_ = select_variant(device, matmul_op("matvec", wtype, act), forced_gemm ? std::string() : forced);
  const auto& caps = device.caps();
  idot_ = gemv_variant_.ends_with("_idot");
  if (idot_) {
    quantize_variant_ = select_variant(device, act == ActType::f16 ? "quantize_q8_1_f16" : "quantize_q8_1_f32");
    if (act == ActType::f32) {
      std::string t = ggml_type_name(wtype);
      std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      // Named, as a forced variant is: they run wherever the GEMV does
      // (forced on lavapipe too, where int_dot is not accelerated).
      auto named = [&](const std::string& op) { return select_variant(device, op + t, op + t); };
      epi_swiglu_variant_ = named("matvec_idot_swiglu_");
      epi_swiglu_scaled_variant_ = named("matvec_idot_swiglu_scaled_");
      epi_norm_variant_ = named("matvec_idot_norm_");
      scaled_variant_ = named("matvec_idot_scaled_");
      chain_swiglu_scaled_variant_ = named("matvec_idot_swiglu_scaled_chain_");
      chain_norm_variant_ = named("matvec_idot_norm_chain_");
      chain_scaled_variant_ = named("matvec_idot_scaled_chain_");
      attn_f16kv_variant_ = named("matvec_idot_attn_f16kv_");
      attn_f32kv_variant_ = named("matvec_idot_attn_f32kv_");
      if (caps.int64_atomics) ffn_variant_ = named("matvec_idot_ffn_");
      // The one-dispatch FFN's tuning: an unsigned variable that must be one of `ok` (unset: `dflt`).
      auto env_choice = [](const char* name, std::initializer_list<uint32_t> ok, uint32_t dflt) {
        const char* e = std::getenv(name);
        if (!e || !*e) return dflt;
        for (const uint32_t v : ok)
          if (std::to_string(v) == e) return v;
        throw InputError(fmt::format("{}='{}': expected one of {}", name, e, fmt::join(ok, ", ")));
      };
      ffn_blocks_ = env_choice("VKQ_FFN_BLOCKS", {1, 2, 4}, 1);  // 32-blocks of h per workgroup
      ffn_early_ = env_choice("VKQ_FFN_EARLY", {0, 1}, 0) == 1;  // down's first loads before the row sums meet
    }
  }
  // Defaults from the H100 sweep in benchmarks/RESULTS.md (flat within a few
  // percent around them); tuning overrides them.
  rows_ = tuning.rows ? tuning.rows : (idot_ ? 1 : 2);
  unroll_ = tuning.unroll ? tuning.unroll : 2;
  // The chain variants: 256 x 4, the fastest of 256 / 512 / 1024 x 2 / 4 / 8
  // with chains on the H200 (smaller workgroups finish, and so free room for
  // the next dispatch's, sooner; benchmarks/RESULTS.md, calls 26-28).
  block_wg_ = tuning.block_wg ? tuning.block_wg : 512;
  chain_wg_ = tuning.block_wg ? tuning.block_wg : 256;
  // 512 x 2: on the H200 2 and 4 loads tied at 512 invocations (the best
  // of 256 / 512 / 1024 x 2 / 4 / 8 / 16); on the H100 2 is 3.6% faster in
  // Q4_0 tg128 and the same in Q8_0 (fewer granule slots past a row's end
  // at K = 11008; benchmarks/RESULTS.md, session of 2026-12-06 (5), calls
  // 9-10). The chain variants keep 4 (their best with 256 invocations).
  block_loads_ = tuning.block_loads ? tuning.block_loads : 2;
  chain_loads_ = tuning.block_loads ? tuning.block_loads : 4;
  // The residual GEMVs with the norm epilogue (attn_output, down: one
  // workgroup of 32 rows per SM at a 4096-row output on the H100): 1024,
  // ahead of 512 in all ten interleaved tg128 pairs on the H100 (Q4_0
  // +1.2-1.3%, Q8_0 +0.5-0.8%); 1024 for every block GEMV was 6% slower
  // (benchmarks/RESULTS.md, session of 2026-12-07 (2), calls 7, 8, 10).
  // --block-wg alone sets them too.
  norm_wg_ = tuning.norm_wg ? tuning.norm_wg : tuning.block_wg ? tuning.block_wg : 1024;
  norm_loads_ = tuning.norm_loads ? tuning.norm_loads : block_loads_;
  block_stage_ = tuning.block_stage;
  chain_unstaged_ = tuning.chain_unstaged;
  // The shared-memory tree needs WG floats; the subgroup path one partial per
  // subgroup and output.
  const bool subgroup = idot_ || gemv_variant_.find("_subgroup") != std::string::npos;
  wg_forced_ = tuning.wg != 0;
  wg_max_ = pick_workgroup_size(caps, tuning.wg ? tuning.wg : 128, subgroup ? 0 : 4);
  if (subgroup) {
    const uint32_t nsub = std::max<uint32_t>(1, wg_max_ / std::max<uint32_t>(1, caps.min_subgroup_size));
    if (uint64_t(nsub) * rows_ * kMaxGemvCols * 4 > caps.max_shared_memory)
      throw DeviceError(fmt::format("device '{}': GEMV reduction needs more shared memory than {}", caps.name,
                                    caps.max_shared_memory));
  }
}

uint32_t Matmul::gemv_wg(uint32_t K) const {
  if (wg_forced_) return wg_max_;
  // About two 16-byte granules of each row per invocation: on the H100 a
  // 4096-wide Q4_0 row (128 granules) ran fastest with 64 invocations and a
  // 14336-wide one with 128 (benchmarks/RESULTS.md).
  const uint32_t elems = wtype_ == GgmlType::F32 ? 4 : wtype_ == GgmlType::Q8_0 ? 16 : wtype_ == GgmlType::Q4_0 || wtype_ == GgmlType::Q4_1 ? 32 : 8;
  const uint32_t half_granules = padded_k(K) / elems / 2;
  uint32_t wg = 32;
  while (wg * 2 <= half_granules && wg * 2 <= wg_max_) wg *= 2;
  return std::min(wg, wg_max_);
}

bool Matmul::can_fuse(const GpuMatrix& w, uint32_t n, GemvEpilogue::Kind kind) const {
  if (!uses_idot(n) || n != 1 || epi_swiglu_variant_.empty() || w.chunks().size() != 1) return false;
  return w.rows() % (kind == GemvEpilogue::Kind::norm ? 32 : 64) == 0;
}

const Kernel& Matmul::gemv_kernel(uint32_t ncols, uint32_t K, const std::string& variant, uint32_t rows) {
  const auto& caps = device_.caps();
  const uint32_t wg = gemv_wg(K);
  const uint32_t nsub = std::max<uint32_t>(1, wg / std::max<uint32_t>(1, caps.min_subgroup_size));
  std::vector<uint32_t> spec{wg, rows, ncols, nsub};
  if (idot_) spec.push_back(unroll_);
  return device_.kernel({variant, spec, sizeof(pc::Matmul)});
}

uint32_t Matmul::block_wg(const std::string& variant) const {
  const bool chained = variant.find("_chain_") != std::string::npos;
  return pick_workgroup_size(device_.caps(), chained ? chain_wg_ : variant == epi_norm_variant_ ? norm_wg_ : block_wg_);
}

const Kernel& Matmul::block_kernel(const std::string& variant, uint32_t K, uint32_t wg_rows,
                                   const std::vector<uint32_t>& extra, uint32_t pc_bytes) {
  // block_wg_ invocations on the workgroup's rows, spread over the
  // subgroups (rps each at a time), every row's granules over one
  // subgroup's lanes in as few steps as cover it with at most block_loads_
  // weight loads per lane in flight (more spill registers).
  const auto& caps = device_.caps();
  const bool chained = variant.find("_chain_") != std::string::npos;
  const uint32_t wg = block_wg(variant), sg = std::max<uint32_t>(1, caps.subgroup_size);
  if (wg < 32)  // an invocation per row of a 32-block in the kernel's last step
    throw DeviceError(fmt::format("device '{}': the decode GEMVs with an epilogue need 32 invocations per workgroup",
                                  caps.name));
  const uint32_t rps = std::max<uint32_t>(1, wg_rows / std::max<uint32_t>(1, wg / sg));
  const uint32_t gpr = padded_k(K) / (wtype_ == GgmlType::Q8_0 ? 16 : 32);
  const uint32_t loads = chained ? chain_loads_ : variant == epi_norm_variant_ ? norm_loads_ : block_loads_;
  const uint32_t unroll_max = std::max<uint32_t>(1, loads / rps);
  const uint32_t steps = std::max<uint32_t>(1, (gpr + sg * unroll_max - 1) / (sg * unroll_max));
  const uint32_t unroll = std::clamp<uint32_t>((gpr + sg * steps - 1) / (sg * steps), 1, unroll_max);
  // x in shared memory: K bytes of values, K / 4 of (d, s), beside the row sums.
  const uint64_t stage_bytes = uint64_t(K) + K / 4 + 4 * 64;
  const bool stage = block_stage_ || (chained && !chain_unstaged_);
  const uint32_t xs = stage && stage_bytes <= caps.max_shared_memory ? K / 16 : 1;
  std::vector<uint32_t> spec{wg, rps, unroll, xs};
  spec.insert(spec.end(), extra.begin(), extra.end());
  if (!pc_bytes) pc_bytes = extra.empty() ? sizeof(pc::Matmul) : sizeof(pc::MatmulAttention);
  return device_.kernel({variant, spec, pc_bytes});
}

std::optional<std::vector<uint32_t>> Matmul::attention_spec(const AttentionTail& a) const {
  const auto& caps = device_.caps();
  const std::string& variant = a.kv_f16 ? attn_f16kv_variant_ : attn_f32kv_variant_;
  if (variant.empty() || a.n_kv_heads == 0 || a.n_heads % a.n_kv_heads || a.head_dim % 32 || a.head_dim > 256)
    return std::nullopt;
  const uint32_t gq = a.n_heads / a.n_kv_heads, hp = a.head_dim / 2;
  const uint32_t min_sg = std::max<uint32_t>(1, caps.min_subgroup_size ? caps.min_subgroup_size : caps.subgroup_size);
  const uint32_t npl = (hp + min_sg - 1) / min_sg, nsg = std::max<uint32_t>(1, block_wg(variant) / min_sg);
  // Registers: q and acc of gq heads, keys and values of 4 rows, npl pairs
  // each (qkv_attention.glsl); shared: q, k, v, one head's partials.
  const uint64_t shared = (uint64_t(gq) * hp + 2 * hp + uint64_t(nsg) * hp + nsg) * 8 + 32 * 4 + 16;
  if (gq > 8 || npl > 8 || shared > caps.max_shared_memory) return std::nullopt;
  return std::vector<uint32_t>{gq, hp, npl, nsg};
}

bool Matmul::can_fuse_attention(const GpuMatrix& w, const AttentionTail& a) const {
  if (!uses_idot(1) || w.chunks().size() != 1 || !attention_spec(a)) return false;
  return w.rows() == (uint64_t(a.n_heads) + 2 * a.n_kv_heads) * a.head_dim && w.cols() % 32 == 0;
}

void Matmul::record_attention(CommandStream& cs, const GpuMatrix& w, const Buffer& xq, const Buffer& xds,
                              const Buffer& y, InputScale scale, const AttentionTail& a) {
  if (!can_fuse_attention(w, a) || !scale)
    throw InputError("matmul: this GEMV cannot take decode attention as its tail (can_fuse_attention, an input scale)");
  if (w.type() != wtype_)
    throw InputError(fmt::format("matmul set up for {} weights got {}", ggml_type_name(wtype_), ggml_type_name(w.type())));
  const uint32_t K = w.cols(), M = w.rows(), hd = a.head_dim;
  const uint64_t q_dim = uint64_t(a.n_heads) * hd, kv_row = uint64_t(a.n_kv_heads) * hd * (a.kv_f16 ? 2 : 4);
  auto small = [](const Buffer* b, uint64_t bytes) { return !b || b->size() < bytes; };
  if (y.size() < uint64_t(M) * 4 || xq.size() < K || xds.size() < uint64_t(K / 32) * 8 ||
      scale.ss->size() < uint64_t(K / 32) * 4 || small(a.step, 4) || small(a.k_cache, a.n_ctx * kv_row) ||
      small(a.v_cache, a.n_ctx * kv_row) || small(a.out, q_dim * 4) || small(a.freq, 4) ||
      (a.n_freq_factors && a.freq->size() < uint64_t(a.rope_dims / 2) * 4) || small(a.count, uint64_t(a.n_kv_heads) * 4) ||
      small(a.xq, q_dim) || small(a.xds, q_dim / 32 * 8) || a.rope_dims % 2 || a.rope_dims > hd)
    throw InputError(fmt::format("matmul: buffers or shape wrong for {}x{} QKV weights with attention's tail", M, K));
  const std::string& variant = a.kv_f16 ? attn_f16kv_variant_ : attn_f32kv_variant_;
  const Kernel& k = block_kernel(variant, K, 32, *attention_spec(a));
  const auto& caps = device_.caps();
  const auto& c = w.chunks().front();
  const uint32_t groups = M / 32, gx = std::min(groups, caps.max_workgroup_count[0]);
  const pc::Matmul mp{M, K, padded_k(K), 1, K, M, 0, gx, 0, 0, scale.eps};
  pc::MatmulAttention p{};
  static_assert(sizeof(pc::Matmul) <= sizeof(pc::MatmulAttention));
  std::memcpy(&p, &mp, sizeof mp);  // Matmul's fields lead (push_constants.h)
  p.n_heads = a.n_heads;
  p.n_kv_heads = a.n_kv_heads;
  p.head_dim = hd;
  p.n_ctx = a.n_ctx;
  p.rope_dims = a.rope_dims;
  p.freq_base = a.freq_base;
  p.n_freq_factors = a.n_freq_factors;
  p.fused_rows = a.fused_rows;
  cs.dispatch_with(k,
                   {c.quants, c.scales, xq, xds, y, *scale.ss, *a.step, *a.k_cache, *a.v_cache, *a.out, *a.freq,
                    *a.count, *a.xq, *a.xds},
                   p, {gx, (groups + gx - 1) / gx, 1});
}

bool Matmul::can_fuse_ffn(const GpuMatrix& gate_up, const GpuMatrix& down) const {
  if (ffn_variant_.empty() || !uses_idot(1) || gate_up.type() != wtype_ || down.type() != wtype_ ||
      gate_up.chunks().size() != 1 || down.chunks().size() != 1)
    return false;
  return gate_up.rows() % (64 * ffn_blocks_) == 0 && down.cols() == gate_up.rows() / 2 &&
         down.rows() == gate_up.cols() && down.rows() % 32 == 0;
}

void Matmul::record_ffn(CommandStream& cs, const GpuMatrix& gate_up, const Buffer& xq, const Buffer& xds,
                        InputScale scale, const Buffer& residual, const FfnTail& t) {
  if (!t.down || !can_fuse_ffn(gate_up, *t.down) || !scale)
    throw InputError("matmul: these weights cannot run the FFN in one dispatch (can_fuse_ffn, an input scale)");
  const uint32_t K = gate_up.cols(), M = gate_up.rows();
  auto small = [](const Buffer* b, uint64_t bytes) { return !b || b->size() < bytes; };
  auto bound = [](const Binding& b) { return std::min(b.range, b.buffer->size() - std::min(b.offset, b.buffer->size())); };
  if (xq.size() < K || xds.size() < uint64_t(K / 32) * 8 || small(scale.ss, uint64_t(K / 32) * 4) ||
      residual.size() < uint64_t(K) * 4 || bound(t.xq) < K || bound(t.xds) < uint64_t(K / 32) * 8 ||
      small(t.ss, uint64_t(K / 32) * 4) || small(t.weight, uint64_t(K) * 4) || small(t.acc, ffn_acc_bytes(K)))
    throw InputError(fmt::format("matmul: buffers too small for the FFN of {}x{} gate | up weights", M, K));
  const Kernel& k = block_kernel(ffn_variant_, K, 64 * ffn_blocks_, {ffn_blocks_, ffn_early_ ? 1u : 0u}, sizeof(pc::Matmul));
  const auto& caps = device_.caps();
  const auto& c = gate_up.chunks().front();
  const auto& d = t.down->chunks().front();
  const uint32_t groups = M / (64 * ffn_blocks_), gx = std::min(groups, caps.max_workgroup_count[0]);
  const pc::Matmul p{M, K, padded_k(K), 1, K, K, 0, gx, 1, M / 2, scale.eps};
  cs.dispatch_with(k,
                   {c.quants, c.scales, xq, xds, residual, t.xq, t.xds, *scale.ss, *t.ss, *t.weight, d.quants,
                    d.scales, *t.acc},
                   p, {gx, (groups + gx - 1) / gx, 1});
}

std::string Matmul::variant_for(uint32_t n) const { return use_gemm(n) ? gemm_variant_ : gemv_variant_; }

std::string Matmul::config_for(uint32_t M, uint32_t K, uint32_t n) const {
  if (!use_gemm(n))
    return fmt::format("{} invocations, {} rows per workgroup{}", gemv_wg(K), rows_,
                       idot_ ? fmt::format(", {} granules in flight", unroll_) : std::string());
  if (cm2_) return cm2_gemm_config(device_.caps(), M, n, gemm_tuning_).describe();
  return coopmat_ ? coopmat_gemm_config(device_.caps(), M, n, gemm_tuning_, padded_k(K)).describe()
                  : tiled_gemm_config(device_.caps(), n, gemm_tuning_).describe();
}

void Matmul::reserve_scratch(uint32_t n, uint32_t K) {
  if (!idot_ || K % 32) return;
  scratch(xq_, uint64_t(n) * K);
  scratch(xds_, uint64_t(n) * (K / 32) * 8);
}

const Buffer& Matmul::scratch(std::vector<Buffer>& pool, uint64_t bytes) {
  if (pool.empty() || pool.back().size() < bytes) pool.emplace_back(device_, std::max<uint64_t>(bytes, 256));
  return pool.back();
}

void Matmul::record(CommandStream& cs, const GpuMatrix& w, const Buffer& x, const Buffer& y, uint32_t n,
                    uint32_t x_stride, uint32_t y_stride, uint32_t y_offset, bool accumulate, const GemvEpilogue* epi) {
  check_epilogue(w, n, epi, {});
  if (w.type() != wtype_)
    throw InputError(fmt::format("matmul set up for {} weights got {}", ggml_type_name(wtype_), ggml_type_name(w.type())));
  const uint32_t K = w.cols(), M = w.rows();
  if (x_stride == 0) x_stride = K;
  if (y_stride == 0) y_stride = y_offset + M;
  if (n == 0) throw InputError("matmul with no activation columns");
  if (K % 4 || x_stride % 4 || x_stride < K || y_stride < uint64_t(y_offset) + M)
    throw InputError(fmt::format("matmul: K ({}) and the activation stride ({}) must be multiples of 4", K, x_stride));
  const uint64_t xel = act_ == ActType::f16 ? 2 : 4;
  if (x.size() < (uint64_t(n - 1) * x_stride + K) * xel || y.size() < (uint64_t(n - 1) * y_stride + y_offset + M) * 4)
    throw InputError(fmt::format("matmul: buffers too small for {}x{} weights and {} columns", M, K, n));
  if (use_gemm(n)) {
    record_gemm(cs, w, x, y, n, x_stride, y_stride, y_offset, accumulate);
    return;
  }
  const auto& caps = device_.caps();
  const uint64_t align = std::max<uint64_t>(caps.min_storage_buffer_offset_alignment, 4);

  if (idot_) {
    // Activations -> 8-bit blocks, then the integer-dot GEMV reads those.
    if (K % 32) throw InputError(fmt::format("matmul: integer-dot path needs K ({}) a multiple of 32", K));
    const Buffer& xq = scratch(xq_, uint64_t(n) * K);
    const Buffer& xds = scratch(xds_, uint64_t(n) * (K / 32) * 8);
    const uint32_t qwg = pick_workgroup_size(caps, 64);
    const Kernel& qk = device_.kernel({quantize_variant_, {qwg}, sizeof(pc::QuantizeAct)});
    const uint32_t qgroups = (n * (K / 32) + qwg - 1) / qwg;
    const uint32_t qgx = std::min(qgroups, caps.max_workgroup_count[0]);
    const pc::QuantizeAct qp{K, n, x_stride, qgx};
    cs.dispatch(qk, {x, xq, xds}, qp, {qgx, (qgroups + qgx - 1) / qgx, 1});
    cs.barrier();
    record_idot_gemv(cs, w, xq, xds, y, n, y_stride, y_offset, accumulate, epi, {});
    return;
  }

  for (uint32_t j0 = 0; j0 < n; j0 += kMaxGemvCols) {
    const uint32_t nc = std::min(kMaxGemvCols, n - j0);
    // Pipelines exist for 1, 2, 4 and 8 columns (fewer to compile); the
    // shader skips columns past pc.n.
    const Kernel& k = gemv_kernel(nc == 1 ? 1 : nc == 2 ? 2 : nc <= 4 ? 4 : 8, K, gemv_variant_, rows_);
    const uint64_t xoff = uint64_t(j0) * x_stride * xel, yoff = uint64_t(j0) * y_stride * 4;
    if (xoff % align || yoff % align)
      throw InputError(fmt::format("matmul: column offset not aligned to {} bytes on '{}'", align, caps.name));
    const Binding bx(x, xoff, x.size() - xoff), by(y, yoff, y.size() - yoff);
    for (const auto& c : w.chunks()) {
      const uint32_t groups = (c.rows + rows_ - 1) / rows_;
      const uint32_t gx = std::min(groups, caps.max_workgroup_count[0]);
      const uint32_t gy = (groups + gx - 1) / gx;
      const pc::Matmul p{c.rows, K, padded_k(K), nc, x_stride, y_stride, y_offset + c.row0, gx, accumulate, 0, 0.0f};
      if (c.scales)
        cs.dispatch(k, {c.quants, c.scales, bx, by}, p, {gx, gy, 1});
      else
        cs.dispatch(k, {c.quants, bx, by}, p, {gx, gy, 1});
    }
  }
}

void Matmul::record_quantized(CommandStream& cs, const GpuMatrix& w, const Buffer& xq, const Buffer& xds,
                              const Buffer& y, uint32_t n, uint32_t y_stride, uint32_t y_offset, bool accumulate,
                              const GemvEpilogue* epi, InputScale scale) {
  check_epilogue(w, n, epi, scale);
  if (!uses_idot(n)) throw InputError(fmt::format("matmul: {} columns do not run the integer-dot GEMV here", n));
  if (w.type() != wtype_)
    throw InputError(fmt::format("matmul set up for {} weights got {}", ggml_type_name(wtype_), ggml_type_name(w.type())));
  const uint32_t K = w.cols(), M = w.rows();
  if (K % 32) throw InputError(fmt::format("matmul: integer-dot path needs K ({}) a multiple of 32", K));
  if (y_stride == 0) y_stride = y_offset + M;
  if (y_stride < uint64_t(y_offset) + M || y.size() < (uint64_t(n - 1) * y_stride + y_offset + M) * 4 ||
      xq.size() < uint64_t(n) * K || xds.size() < uint64_t(n) * (K / 32) * 8)
    throw InputError(fmt::format("matmul: buffers too small for {}x{} weights and {} quantized columns", M, K, n));
  if (scale && scale.ss->size() < uint64_t(K / 32) * 4)
    throw InputError("matmul: the deferred norm's sums of squares are too small for K");
  record_idot_gemv(cs, w, xq, xds, y, n, y_stride, y_offset, accumulate, epi, scale);
}

void Matmul::check_epilogue(const GpuMatrix& w, uint32_t n, const GemvEpilogue* epi, InputScale scale) const {
  if (scale && (n != 1 || !uses_idot(n) || scaled_variant_.empty()))
    throw InputError("matmul: deferred-norm activations need the integer-dot GEMV and one column");
  if (!epi) return;
  const bool norm = epi->kind == GemvEpilogue::Kind::norm;
  if (!can_fuse(w, n, epi->kind))
    throw InputError(fmt::format("matmul: this GEMV cannot take the {} epilogue (can_fuse)", norm ? "norm" : "SwiGLU"));
  if (norm && (scale || !epi->ss || !epi->weight || epi->ss->size() < uint64_t(w.rows() / 32) * 4 ||
               epi->weight->size() < uint64_t(w.rows()) * 4))
    throw InputError("matmul: the norm epilogue needs its weight and sums of squares, and no input scale");
}

void Matmul::record_idot_gemv(CommandStream& cs, const GpuMatrix& w, const Buffer& xq, const Buffer& xds, const Buffer& y,
                              uint32_t n, uint32_t y_stride, uint32_t y_offset, bool accumulate,
                              const GemvEpilogue* epi, InputScale scale) {
  const auto& caps = device_.caps();
  const uint64_t align = std::max<uint64_t>(caps.min_storage_buffer_offset_alignment, 4);
  const uint32_t K = w.cols();
  const bool norm = epi && epi->kind == GemvEpilogue::Kind::norm;
  // A link of the stream's dispatch chain: one dispatch (one chunk, one
  // column) of a kernel with a chain variant.
  const bool chain = cs.chain_flags() && n == 1 && w.chunks().size() == 1 && (norm || scale);
  const std::string& variant = norm    ? (chain ? chain_norm_variant_ : epi_norm_variant_)
                               : epi   ? (scale ? (chain ? chain_swiglu_scaled_variant_ : epi_swiglu_scaled_variant_)
                                                : epi_swiglu_variant_)
                               : scale ? (chain ? chain_scaled_variant_ : scaled_variant_)
                                       : gemv_variant_;
  for (uint32_t j0 = 0; j0 < n; j0 += kMaxGemvCols) {
    const uint32_t nc = std::min(kMaxGemvCols, n - j0);
    // Workgroups: ROWS rows each, or in matvec_idot_block.comp (an epilogue
    // or an input scale) a 32-block: 32 rows, or for swiglu its 32 gate
    // and 32 up rows.
    const bool block = epi || scale;
    const uint32_t rows = epi && !norm ? 64 : block ? 32 : rows_;
    const Kernel& k = block ? block_kernel(variant, K, rows)
                            : gemv_kernel(nc == 1 ? 1 : nc == 2 ? 2 : nc <= 4 ? 4 : 8, K, variant, rows);
    const uint64_t qoff = uint64_t(j0) * K, doff = uint64_t(j0) * (K / 32) * 8, yoff = uint64_t(j0) * y_stride * 4;
    if (qoff % align || doff % align || yoff % align)
      throw InputError(fmt::format("matmul: column offset not aligned to {} bytes on '{}'", align, caps.name));
    const Binding bq(xq, qoff, uint64_t(nc) * K), bd(xds, doff, uint64_t(nc) * (K / 32) * 8),
        by(y, yoff, y.size() - yoff);
    for (const auto& c : w.chunks()) {
      const uint32_t groups = (c.rows + rows - 1) / rows;
      const uint32_t gx = std::min(groups, caps.max_workgroup_count[0]);
      pc::Matmul p{c.rows, K, padded_k(K), nc, K, y_stride, y_offset + c.row0, gx, accumulate, c.rows / 2,
                   scale.eps};
      const std::array<uint32_t, 3> grid{gx, (groups + gx - 1) / gx, 1};
      std::vector<Binding> b{c.quants, c.scales, bq, bd, by};
      if (epi) b.insert(b.end(), {epi->xq, epi->xds});
      if (norm) b.insert(b.end(), {*epi->ss, *epi->weight});
      if (scale) b.push_back(*scale.ss);
      if (chain) cs.link(p, b, grid[0] * grid[1]);
      cs.dispatch_with(k, b, p, grid);
    }
  }
}

void Matmul::record_gemm(CommandStream& cs, const GpuMatrix& w, const Buffer& x, const Buffer& y, uint32_t n,
                         uint32_t x_stride, uint32_t y_stride, uint32_t y_offset, bool accumulate) {
  std::vector<GemmPlanes> planes;
  for (const auto& c : w.chunks()) planes.push_back({c.row0, c.rows, &c.quants, c.scales ? &c.scales : nullptr});
  record_gemm_planes(cs, planes, w.rows(), w.cols(), x, y, n, x_stride, y_stride, y_offset, accumulate);
}

void Matmul::record_plane(CommandStream& cs, const Buffer& plane, uint32_t M, uint32_t K, const Buffer& x,
                          const Buffer& y, uint32_t n, uint32_t y_stride, uint32_t y_offset, bool accumulate) {
  if (is_block_type(wtype_) || !use_gemm(n))
    throw InputError(fmt::format("matmul: a weight plane runs the GEMM of a plain type, not {} at {} columns",
                                 ggml_type_name(wtype_), n));
  if (y_stride == 0) y_stride = y_offset + M;
  const uint64_t xel = act_ == ActType::f16 ? 2 : 4;
  if (K % 4 || y_stride < uint64_t(y_offset) + M || plane.size() < uint64_t(M) * quant_row_bytes(wtype_, K) ||
      x.size() < uint64_t(n) * K * xel || y.size() < (uint64_t(n - 1) * y_stride + y_offset + M) * 4)
    throw InputError(fmt::format("matmul: buffers too small for a {}x{} weight plane and {} columns", M, K, n));
  const GemmPlanes p{0, M, &plane, nullptr};
  record_gemm_planes(cs, std::span(&p, 1), M, K, x, y, n, K, y_stride, y_offset, accumulate);
}

void Matmul::record_gemm_planes(CommandStream& cs, std::span<const GemmPlanes> planes, uint32_t M, uint32_t K,
                                const Buffer& x, const Buffer& y, uint32_t n, uint32_t x_stride, uint32_t y_stride,
                                uint32_t y_offset, bool accumulate) {
  const auto& caps = device_.caps();
  std::vector<uint32_t> spec;
  uint32_t bm = 0, bn = 0;
  if (cm2_) {
    const auto c = cm2_gemm_config(caps, M, n, gemm_tuning_);
    spec = c.spec_constants();
    bm = c.bm;
    bn = c.bn;
  } else if (coopmat_) {
    // The tile depends on the shape (fewer columns for small n, fewer rows
    // for small grids): one pipeline per distinct tile.
    const auto c = coopmat_gemm_config(caps, M, n, gemm_tuning_, padded_k(K));
    spec = c.spec_constants();
    bm = c.bm;
    bn = c.bn;
  } else {
    const auto c = tiled_gemm_config(caps, n, gemm_tuning_);  // columns follow n
    spec = c.spec_constants();
    bm = c.bm;
    bn = c.bn;
  }
  const Kernel& k = device_.kernel({gemm_variant_, spec, sizeof(pc::Matmul)});
  // Grid: x (+ z * groups_x) over row tiles, y over column tiles.
  const uint32_t col_tiles = (n + bn - 1) / bn;
  if (col_tiles > caps.max_workgroup_count[1])
    throw InputError(fmt::format("matmul: {} columns need {} workgroups in y, '{}' allows {}", n, col_tiles, caps.name,
                                 caps.max_workgroup_count[1]));
  for (const auto& c : planes) {
    const uint32_t row_tiles = (c.rows + bm - 1) / bm;
    const uint32_t gx = std::min(row_tiles, caps.max_workgroup_count[0]);
    const uint32_t gz = (row_tiles + gx - 1) / gx;
    if (gz > caps.max_workgroup_count[2])
      throw InputError(fmt::format("matmul: {} weight rows need more workgroups than '{}' allows", c.rows, caps.name));
    const pc::Matmul p{c.rows, K, padded_k(K), n, x_stride, y_stride, y_offset + c.row0, gx, accumulate, 0, 0.0f};
    if (c.scales)
      cs.dispatch(k, {*c.quants, *c.scales, x, y}, p, {gx, col_tiles, gz});
    else
      cs.dispatch(k, {*c.quants, x, y}, p, {gx, col_tiles, gz});
  }
}

DequantF16::DequantF16(Device& device, GgmlType type)
    : device_(device),
      type_(type),
      wg_(pick_workgroup_size(device.caps(), 256)),
      kernel_(&device.kernel({select_variant(device, dequant_op(type)),
                              {wg_},
                              sizeof(pc::DequantF16)})) {}

void DequantF16::record(CommandStream& cs, const GpuMatrix& w, const Buffer& out) const {
  if (w.type() != type_)
    throw InputError(fmt::format("dequant_f16 set up for {} weights got {}", ggml_type_name(type_), ggml_type_name(w.type())));
  if (out.size() < uint64_t(w.rows()) * quant_row_bytes(GgmlType::F16, w.cols()))
    throw InputError(fmt::format("dequant_f16: {} bytes cannot hold a {}x{} fp16 plane", out.size(), w.rows(), w.cols()));
  const auto& caps = device_.caps();
  const uint32_t K = w.cols(), Kp = padded_k(K);  // Kp = K: block types hold whole blocks
  for (const auto& c : w.chunks()) {
    const uint64_t words = uint64_t(c.rows) * (Kp / 8);  // 16-byte output words, one per invocation
    const uint64_t groups = (words + wg_ - 1) / wg_;
    const uint32_t gx = static_cast<uint32_t>(std::min<uint64_t>(groups, caps.max_workgroup_count[0]));
    const uint64_t gy = (groups + gx - 1) / gx;
    if (gy > caps.max_workgroup_count[1])
      throw InputError(fmt::format("dequant_f16: {} rows need more workgroups than '{}' allows", c.rows, caps.name));
    const pc::DequantF16 p{c.rows, Kp, c.row0, gx};
    cs.dispatch(*kernel_, {c.quants, c.scales, out}, p, {gx, static_cast<uint32_t>(gy), 1});
  }
}

}  // namespace vkq::ops
