#include "ops/llama_ops.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "common/push_constants.h"
#include "error.hpp"
#include "kernel.hpp"
#include "variant_select.hpp"

namespace vkq::ops {
namespace {

constexpr uint32_t kMaxGroupsX = 65535;  // the minimum maxComputeWorkGroupCount[0] Vulkan guarantees

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Workgroups for a grid-stride loop over `items` with `wg` invocations each.
uint32_t stride_groups(uint64_t items, uint32_t wg) {
  return static_cast<uint32_t>(std::clamp<uint64_t>((items + wg - 1) / wg, 1, kMaxGroupsX));
}

// A 2-D grid of `n` workgroups: x + y * kMaxGroupsX.
std::array<uint32_t, 3> grid_2d(uint64_t n) {
  const uint32_t x = static_cast<uint32_t>(std::clamp<uint64_t>(n, 1, kMaxGroupsX));
  return {x, static_cast<uint32_t>((n + kMaxGroupsX - 1) / kMaxGroupsX), 1};
}

void check_size(const Buffer& b, uint64_t bytes, const char* op, const char* what) {
  if (b.size() < bytes)
    throw InputError(fmt::format("{}: {} buffer holds {} bytes, needs {}", op, what, b.size(), bytes));
}

const char* kv_suffix(KvType t) { return t == KvType::f16 ? "f16" : "f32"; }

// The quantized copy of `rows` rows of `width`: checked, and the op must
// have been built for it (or not).
void check_quantized(bool quant_out, const QuantizedActivations& q, uint32_t rows, uint32_t width, const char* op) {
  if (quant_out != bool(q))
    throw InputError(fmt::format("{}: built {} a quantized output, recorded {} one", op, quant_out ? "with" : "without",
                                 q ? "with" : "without"));
  if (!q) return;
  if (width % 32) throw InputError(fmt::format("{}: quantized output rows of {} are not whole 32-blocks", op, width));
  check_size(*q.xq, uint64_t(rows) * width, op, "quantized output");
  check_size(*q.xds, uint64_t(rows) * (width / 32) * 8, op, "quantized scale");
}

}  // namespace

const char* kv_type_name(KvType t) { return kv_suffix(t); }
uint32_t kv_bytes_per_element(KvType t) { return t == KvType::f16 ? 2 : 4; }

GetRows::GetRows(Device& device, GgmlType type) : device_(device), type_(type) {
  wg_ = pick_workgroup_size(device.caps(), 64);
  const auto v = select_variant(device, "get_rows_" + lower(ggml_type_name(type)));
  kernel_ = &device.kernel({v, {wg_}, sizeof(pc::GetRows)});
}

void GetRows::record(CommandStream& cs, const GpuMatrix& w, const Buffer& tokens, const Buffer& out, uint32_t n,
                     uint32_t out_stride) const {
  if (w.type() != type_) throw InputError("get_rows: weight type differs from the kernel's");
  if (out_stride < w.cols()) throw InputError("get_rows: output stride shorter than a row");
  check_size(tokens, uint64_t(n) * 4, "get_rows", "token");
  check_size(out, (uint64_t(n - 1) * out_stride + w.cols()) * 4, "get_rows", "output");
  for (const auto& c : w.chunks()) {
    const pc::GetRows p{n, w.cols(), padded_k(w.cols()), c.row0, c.rows, out_stride};
    if (c.scales)
      cs.dispatch(*kernel_, {c.quants, c.scales, tokens, out}, p, grid_2d(n));
    else
      cs.dispatch(*kernel_, {c.quants, tokens, out}, p, grid_2d(n));
  }
}

RmsNorm::RmsNorm(Device& device, bool quant_out, bool deferred, ActType out_type)
    : device_(device), quant_out_(quant_out), deferred_(deferred), out_type_(out_type) {
  const auto& caps = device.caps();
  if (deferred && !quant_out) throw InputError("rmsnorm: the deferred form is a quantized output");
  if (quant_out && out_type == ActType::f16) throw InputError("rmsnorm: an fp16 output has no quantized form");
  if (deferred) {
    // An invocation per 32-block, no reduction: 128 for a 4096-wide row.
    wg_ = pick_workgroup_size(caps, 128);
    kernel_ = &device.kernel({select_variant(device, "rmsnorm_q8_deferred", "rmsnorm_q8_deferred"), {wg_},
                              sizeof(pc::RmsNorm)});
    return;
  }
  if (!quant_out) {
    wg_ = pick_workgroup_size(caps, 256, 4);
    const char* op = out_type == ActType::f16 ? "rmsnorm_f16" : "rmsnorm";
    kernel_ = &device.kernel({select_variant(device, op), {wg_}, sizeof(pc::RmsNorm)});
    return;
  }
  // rmsnorm_q8: one vec4 of a 4096-wide row per invocation, and x * w of up
  // to 8192 elements in shared memory, as much as fits beside the tree.
  wg_ = pick_workgroup_size(caps, 1024, 4 + 16);
  cache4_ = std::min<uint32_t>(2048, (caps.max_shared_memory - 4 * wg_) / 16);
  kernel_ = &device.kernel({select_variant(device, "rmsnorm_q8"), {wg_, cache4_}, sizeof(pc::RmsNorm)});
}

void RmsNorm::record(CommandStream& cs, const Buffer& x, const Buffer& weight, const Buffer& out, Shape s,
                     QuantizedActivations q) const {
  if (s.rows == 0 || s.width == 0) throw InputError("rmsnorm: empty shape");
  if (!s.in_stride) s.in_stride = s.width;
  if (!s.out_stride) s.out_stride = s.width;
  check_size(x, (s.in_offset + uint64_t(s.rows - 1) * s.in_stride + s.width) * 4, "rmsnorm", "input");
  const uint64_t out_bytes = out_type_ == ActType::f16 ? 2 : 4;
  if (out_type_ == ActType::f16 && (s.width % 2 || s.out_offset % 2 || s.out_stride % 2))
    throw InputError("rmsnorm_f16: width, output offset and stride must be even");
  check_size(out, (s.out_offset + uint64_t(s.rows - 1) * s.out_stride + s.width) * out_bytes, "rmsnorm", "output");
  check_size(weight, uint64_t(s.width) * 4, "rmsnorm", "weight");
  check_quantized(quant_out_, q, s.rows, s.width, "rmsnorm");
  if (quant_out_ && (s.in_offset % 4 || s.in_stride % 4 || s.out_offset % 4 || s.out_stride % 4))
    throw InputError("rmsnorm_q8: offsets and strides must be multiples of 4");
  if (quant_out_ && s.width > 4ull * cache4_ && &x == &out)
    throw InputError(fmt::format("rmsnorm_q8: rows wider than {} cannot be normed in place", 4 * cache4_));
  if (deferred_ != (q.ss != nullptr)) throw InputError("rmsnorm: the deferred form needs its sums of squares, and only it");
  const pc::RmsNorm p{s.rows, s.width, s.eps, s.in_offset, s.in_stride, s.out_offset, s.out_stride};
  if (deferred_) {
    check_size(*q.ss, uint64_t(s.rows) * (s.width / 32) * 4, "rmsnorm", "sums of squares");
    cs.dispatch(*kernel_, {x, weight, out, *q.xq, *q.xds, *q.ss}, p, grid_2d(s.rows));
  } else if (q)
    cs.dispatch(*kernel_, {x, weight, out, *q.xq, *q.xds}, p, grid_2d(s.rows));
  else
    cs.dispatch(*kernel_, {x, weight, out}, p, grid_2d(s.rows));
}

RopeKv::RopeKv(Device& device, KvType kv) : device_(device) {
  wg_ = pick_workgroup_size(device.caps(), 256);
  kernel_ = &device.kernel({select_variant(device, fmt::format("rope_kv_{}", kv_suffix(kv))), {wg_}, sizeof(pc::RopeKv)});
}

void RopeKv::record(CommandStream& cs, const Buffer& qkv, const Buffer& step, const Buffer& freq, const Buffer& kc,
                    const Buffer& vc, uint32_t n, uint32_t qkv_stride, uint32_t n_ctx, const RopeShape& s) const {
  if (s.head_dim % 2 || s.rope_dims % 2 || s.rope_dims > s.head_dim || qkv_stride % 2)
    throw InputError("rope_kv: head_dim, rope_dims and the qkv stride must be even, rope_dims <= head_dim");
  const uint64_t q_dim = uint64_t(s.n_heads) * s.head_dim, kv_dim = uint64_t(s.n_kv_heads) * s.head_dim;
  if (qkv_stride < q_dim + 2 * kv_dim) throw InputError("rope_kv: qkv stride shorter than q + k + v");
  check_size(qkv, (uint64_t(n - 1) * qkv_stride + q_dim + 2 * kv_dim) * 4, "rope_kv", "qkv");
  if (s.n_freq_factors) check_size(freq, uint64_t(s.rope_dims / 2) * 4, "rope_kv", "freq factor");
  if (s.n_freq_factors && s.n_freq_factors != s.rope_dims / 2) throw InputError("rope_kv: need rope_dims / 2 freq factors");
  const pc::RopeKv p{n, s.n_heads, s.n_kv_heads, s.head_dim, s.rope_dims, qkv_stride, s.freq_base, s.n_freq_factors, n_ctx};
  const uint64_t pairs = uint64_t(n) * (q_dim + 2 * kv_dim) / 2;
  cs.dispatch(*kernel_, {qkv, step, freq, kc, vc}, p, {stride_groups(pairs, wg_), 1, 1});
}

uint32_t attention_splits(uint32_t n_heads, uint32_t n_ctx) {
  const uint32_t for_device = (1024 + n_heads - 1) / std::max<uint32_t>(n_heads, 1);
  const uint32_t for_rows = std::max<uint32_t>(1, n_ctx / 8);
  return std::clamp<uint32_t>(std::min(for_device, for_rows), 1, 32);
}

uint64_t attention_part_bytes(uint32_t n_heads, uint32_t head_dim, uint32_t splits) {
  return uint64_t(n_heads) * splits * (1 + head_dim / 2) * 8;
}

uint64_t attention_tile_shared_bytes(const AttentionTile& t, uint32_t head_dim, KvType kv) {
  // attention_tiled.comp: qs, ks and vs (rows padded by a word), sc, red_m and red_l.
  const uint64_t hp = head_dim / 2, word = kv == KvType::f16 ? 4 : 8;
  return uint64_t(t.queries) * hp * 8 + 2 * uint64_t(t.rows) * (hp + 1) * word + uint64_t(t.queries) * (t.rows + 1) * 4 +
         2 * uint64_t(t.wg) * 4;
}

std::optional<AttentionTile> attention_tile(const DeviceCaps& caps, uint32_t head_dim, KvType kv) {
  // Largest first: more queries per chunk of the cache read, more
  // invocations. Each keeps the kernel's rules: wg % queries == 0,
  // wg % rows == 0, rows % (wg / queries) == 0. 256 x 16 x 64 (47,680
  // bytes at head_dim 128 with an f16 cache) was the fastest of 15 tiles
  // on the H200, prefill attention 9.69 -> 6.60 ms per 512-token Q4_0
  // prefill against 128 x 16 x 32 (benchmarks/RESULTS.md, calls 41-42).
  static constexpr AttentionTile kCandidates[] = {
      {256, 16, 64}, {128, 16, 32}, {64, 16, 16}, {64, 8, 32}, {32, 8, 16}};
  const uint32_t max_wg = std::min(caps.max_workgroup_invocations, caps.max_workgroup_size[0]);
  if (const char* e = std::getenv("VKQ_ATTENTION_TILE"); e && *e) {  // "WG,QUERIES,ROWS" (tuning)
    AttentionTile t{};
    if (std::sscanf(e, "%u,%u,%u", &t.wg, &t.queries, &t.rows) != 3 || !t.wg || !t.queries || !t.rows ||
        t.wg % t.queries || t.wg % t.rows || t.rows % (t.wg / t.queries) || t.wg > max_wg)
      throw InputError(fmt::format("VKQ_ATTENTION_TILE='{}': expected WG,QUERIES,ROWS with WG a multiple of both, "
                                   "ROWS a multiple of WG / QUERIES and WG at most {}",
                                   e, max_wg));
    if (attention_tile_shared_bytes(t, head_dim, kv) > caps.max_shared_memory)
      throw InputError(fmt::format("VKQ_ATTENTION_TILE='{}': needs {} bytes of shared memory at head_dim {}, '{}' has {}",
                                   e, attention_tile_shared_bytes(t, head_dim, kv), head_dim, caps.name,
                                   caps.max_shared_memory));
    return t;
  }
  for (const auto& t : kCandidates)
    if (t.wg <= max_wg && attention_tile_shared_bytes(t, head_dim, kv) <= caps.max_shared_memory) return t;
  return std::nullopt;
}

uint64_t attention_coopmat_shared_bytes(const AttentionCoopmatTile& t, uint32_t head_dim, bool emulated) {
  // attention_coopmat.comp: kv (K and V chunk rows; q first, unless
  // emulated, which has qs besides), the score and P tiles, m and l for 4
  // lanes per query row.
  const uint64_t row = (head_dim + 8) * 2, queries = 16ull * t.nsub;
  const uint64_t kv_rows = emulated ? 2ull * t.rows : std::max<uint64_t>(2ull * t.rows, queries);
  return kv_rows * row + (emulated ? queries * row : 0) + queries * (t.rows + 4) * 4 + queries * (t.rows + 8) * 2 +
         queries * 4 * 8;
}

std::optional<AttentionCoopmatTile> attention_coopmat_tile(const DeviceCaps& caps, uint32_t head_dim, bool quant_out,
                                                           bool emulated) {
  if (head_dim == 0 || head_dim % (quant_out ? 32 : 16) || head_dim > 256) return std::nullopt;
  // Enough invocations for nsub subgroups at the largest size the driver may pick.
  const uint32_t sg_max = caps.largest_subgroup();
  const uint32_t max_wg = std::min(caps.max_workgroup_invocations, caps.max_workgroup_size[0]);
  auto fits = [&](AttentionCoopmatTile t) {
    t.wg = t.nsub * sg_max;
    return t.wg <= max_wg && attention_coopmat_shared_bytes(t, head_dim, emulated) <= caps.max_shared_memory
               ? std::optional<AttentionCoopmatTile>(t)
               : std::nullopt;
  };
  if (const char* e = std::getenv("VKQ_ATTENTION_COOPMAT_TILE"); e && *e) {  // "NSUB,ROWS" (tuning)
    AttentionCoopmatTile t{};
    if (std::sscanf(e, "%u,%u", &t.nsub, &t.rows) != 2 || !t.nsub || t.nsub > 16 || t.rows < 32 || t.rows % 16 ||
        t.rows > 256)
      throw InputError(fmt::format("VKQ_ATTENTION_COOPMAT_TILE='{}': expected NSUB,ROWS with NSUB 1 to 16 and ROWS a "
                                   "multiple of 16 from 32 to 256",
                                   e));
    if (auto f = fits(t)) return f;
    throw InputError(fmt::format("VKQ_ATTENTION_COOPMAT_TILE='{}' does not fit '{}' at head_dim {} ({} bytes of shared "
                                 "memory, {} invocations)",
                                 e, caps.name, head_dim, attention_coopmat_shared_bytes(t, head_dim, emulated),
                                 t.nsub * sg_max));
  }
  // Most queries per chunk of the cache first (each chunk is read once per
  // workgroup), then longer chunks (fewer barriers).
  static constexpr AttentionCoopmatTile kCandidates[] = {{0, 4, 32}, {0, 2, 64}, {0, 2, 32}, {0, 1, 32}};
  for (const auto& t : kCandidates)
    if (auto f = fits(t)) return f;
  return std::nullopt;
}

uint32_t env_row_count(const char* name, std::string_view value, uint32_t lo, uint32_t hi) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || v < lo || v > hi)
    throw InputError(fmt::format("{}='{}': expected a row count from {} to {}", name, value, lo, hi));
  return v;
}

Attention::Attention(Device& device, KvType kv, bool quant_out, bool fused_rope, uint32_t splits, bool tiled)
    : device_(device), kv_(kv), quant_out_(quant_out), fused_rope_(fused_rope), tiled_(tiled && !fused_rope),
      splits_(fused_rope ? splits : 1) {
  static_assert(kMaxAttentionSplits == VKQ_ATTENTION_SPLITS_MAX);
  if (splits_ == 0 || splits_ > kMaxAttentionSplits || splits_ > device.caps().max_workgroup_count[1])
    throw InputError(fmt::format("attention: {} splits per head", splits));
  wg_ = pick_workgroup_size(device.caps(), 64, 8);
  if (tiled_) {
    tiled_variant_ = select_variant(device, fmt::format("attention_tiled_{}{}", kv_suffix(kv), quant_out ? "_q8" : ""));
    const char* pe = std::getenv("VKQ_PREFILL_ATTENTION");
    const std::string_view prefill = pe ? pe : "";
    if (!prefill.empty() && prefill != "auto" && prefill != "coopmat" && prefill != "tiled")
      throw InputError(fmt::format("VKQ_PREFILL_ATTENTION='{}': expected auto, coopmat or tiled", prefill));
    if (kv == KvType::f16 && prefill != "tiled") {
      // The emulated build only when asked for (tests on lavapipe).
      const auto op = fmt::format("attention_coopmat_f16{}", quant_out ? "_q8" : "");
      for (const auto& v : {op, op + "_emulated"})
        if ((v == op || prefill == "coopmat") &&
            ShaderRegistry::missing_features(device.shaders().get(v), device.caps()).empty()) {
          coopmat_variant_ = v;
          break;
        }
      if (prefill == "coopmat" && coopmat_variant_.empty())
        throw DeviceError(fmt::format("VKQ_PREFILL_ATTENTION=coopmat: '{}' runs no variant of {}", device.caps().name, op));
    }
  }
  const auto op = fmt::format("attention_{}{}{}", kv_suffix(kv), fused_rope ? "_rope" : "", quant_out ? "_q8" : "");
  // VKQ_DECODE_ATTENTION=fallback (tuning, A/B): attention.comp's fused-rope
  // kernel even where attention_decode.comp runs.
  const char* e = std::getenv("VKQ_DECODE_ATTENTION");
  const std::string_view mode = e ? e : "";
  if (!mode.empty() && mode != "auto" && mode != "fallback")
    throw InputError(fmt::format("VKQ_DECODE_ATTENTION='{}': expected auto or fallback", mode));
  const bool fallback = fused_rope && mode == "fallback";
  const auto v = select_variant(device, op, fallback ? op : std::string());
  decode_registers_ = v.ends_with("_subgroup");
  // attention_decode.comp: the fewest cache rows per active split. 4 was
  // the fastest of 1, 4 and 8 on the H200 (tg128 Q4_0 +2% and Q8_0 +2.3%
  // against attention.comp's kernel; benchmarks/RESULTS.md, call 51);
  // VKQ_DECODE_SPLIT_ROWS=N sets it (tuning).
  uint32_t split_rows = 4;
  if (const char* r = std::getenv("VKQ_DECODE_SPLIT_ROWS"); r && *r)
    split_rows = env_row_count("VKQ_DECODE_SPLIT_ROWS", r, 1, 65536);
  const std::vector<uint32_t> spec = decode_registers_ ? std::vector<uint32_t>{wg_, splits_, split_rows}
                                                       : std::vector<uint32_t>{wg_, splits_};
  kernel_ = &device.kernel({v, spec, sizeof(pc::Attention)});
  if (fused_rope && quant_out)
    chain_kernel_ = &device.kernel({select_variant(device, v + "_chain"), spec, sizeof(pc::Attention)});
}

void Attention::check_shape(uint32_t n, uint32_t n_heads, uint32_t n_kv_heads, uint32_t head_dim, uint32_t q_stride,
                            uint32_t out_stride) const {
  if (head_dim == 0 || head_dim % 2 || head_dim > 256) throw InputError("attention: head_dim must be even and at most 256");
  if (n_kv_heads == 0 || n_heads % n_kv_heads) throw InputError("attention: n_heads must be a multiple of n_kv_heads");
  if (q_stride % 2 || out_stride % 2) throw InputError("attention: strides must be even");
  const auto& caps = device_.caps();
  if (n_heads > caps.max_workgroup_count[0] || n > caps.max_workgroup_count[1])
    throw InputError(fmt::format("attention: {} heads x {} tokens exceed the workgroup grid of '{}'", n_heads, n, caps.name));
}

void Attention::record(CommandStream& cs, const Buffer& q, const Buffer& step, const Buffer& kc, const Buffer& vc,
                       const Buffer& out, uint32_t n, uint32_t q_stride, uint32_t out_stride, uint32_t n_ctx,
                       uint32_t n_heads, uint32_t n_kv_heads, uint32_t head_dim, QuantizedActivations qa) const {
  if (fused_rope_) throw InputError("attention: a fused-rope kernel is recorded with record_rope");
  check_shape(n, n_heads, n_kv_heads, head_dim, q_stride, out_stride);
  const uint64_t q_dim = uint64_t(n_heads) * head_dim;
  check_size(q, (uint64_t(n - 1) * q_stride + q_dim) * 4, "attention", "q");
  check_size(out, (uint64_t(n - 1) * out_stride + q_dim) * 4, "attention", "output");
  check_quantized(quant_out_, qa, n, static_cast<uint32_t>(q_dim), "attention");
  if (qa && head_dim % 32) throw InputError("attention: a quantized output needs head_dim a multiple of 32");
  const pc::Attention p{n, n_heads, n_kv_heads, head_dim, q_stride, out_stride, 1.0f / std::sqrt(float(head_dim)), n_ctx,
                        0, 0.0f, 0, 0, 0, 0};
  const Kernel* k = kernel_;
  std::array<uint32_t, 3> grid{n_heads, n, 1};
  if (const auto ct = coopmat_tile_for(head_dim, q_stride, out_stride)) {
    k = &device_.kernel({coopmat_variant_, {ct->wg, ct->nsub, ct->rows, head_dim, device_.caps().smallest_subgroup()},
                         sizeof(pc::Attention)});
    grid = {n_heads, (n + 16 * ct->nsub - 1) / (16 * ct->nsub), 1};
  } else if (const auto tile = tile_for(head_dim)) {
    // The pipeline for this head size (a specialization constant), made once.
    k = &device_.kernel({tiled_variant_, {tile->wg, tile->queries, tile->rows, head_dim / 2}, sizeof(pc::Attention)});
    grid = {n_heads, (n + tile->queries - 1) / tile->queries, 1};
  }
  if (qa)
    cs.dispatch(*k, {q, step, kc, vc, out, *qa.xq, *qa.xds}, p, grid);
  else
    cs.dispatch(*k, {q, step, kc, vc, out}, p, grid);
}

std::optional<AttentionTile> Attention::tile_for(uint32_t head_dim) const {
  return tiled_ ? attention_tile(device_.caps(), head_dim, kv_) : std::nullopt;
}

std::optional<AttentionCoopmatTile> Attention::coopmat_tile_for(uint32_t head_dim, uint32_t q_stride,
                                                                uint32_t out_stride) const {
  // The kernel reads q and writes out 4 floats at a time.
  if (coopmat_variant_.empty() || q_stride % 4 || out_stride % 4) return std::nullopt;
  return attention_coopmat_tile(device_.caps(), head_dim, quant_out_, coopmat_variant_.ends_with("_emulated"));
}

std::string Attention::variant_for(uint32_t head_dim) const {
  // The forward pass's strides (multiples of 4 wherever head_dim is a multiple of 16).
  if (coopmat_tile_for(head_dim, 0, 0)) return coopmat_variant_;
  return tile_for(head_dim) ? tiled_variant_ : kernel_->name();
}

void Attention::record_rope(CommandStream& cs, const Buffer& qkv, const Buffer& step, const Buffer& freq,
                            const Buffer& kc, const Buffer& vc, const Buffer& out, const Buffer& part,
                            const Buffer& count, uint32_t qkv_stride, uint32_t n_ctx, const RopeShape& r,
                            QuantizedActivations qa, uint32_t fused_rows) const {
  if (!fused_rope_) throw InputError("attention: record_rope needs the fused-rope kernel");
  check_shape(1, r.n_heads, r.n_kv_heads, r.head_dim, qkv_stride, 0);
  if (r.rope_dims % 2 || r.rope_dims > r.head_dim) throw InputError("attention: rope_dims must be even and at most head_dim");
  const uint64_t q_dim = uint64_t(r.n_heads) * r.head_dim, kv_dim = uint64_t(r.n_kv_heads) * r.head_dim;
  check_size(qkv, (q_dim + 2 * kv_dim) * 4, "attention", "qkv");
  check_size(out, q_dim * 4, "attention", "output");
  if (r.n_freq_factors) check_size(freq, uint64_t(r.rope_dims / 2) * 4, "attention", "freq factor");
  check_quantized(quant_out_, qa, 1, static_cast<uint32_t>(q_dim), "attention");
  if (qa && r.head_dim % 32) throw InputError("attention: a quantized output needs head_dim a multiple of 32");
  if (decode_registers_ && r.head_dim > 4 * wg_)  // attention_decode.comp: two pairs per invocation
    throw InputError(fmt::format("attention: head_dim {} exceeds {} for '{}'", r.head_dim, 4 * wg_, kernel_->name()));
  check_size(part, attention_part_bytes(r.n_heads, r.head_dim, splits_), "attention", "split partials");
  check_size(count, attention_count_bytes(r.n_heads), "attention", "split count");
  pc::Attention p{1, r.n_heads, r.n_kv_heads, r.head_dim, qkv_stride, static_cast<uint32_t>(q_dim),
                  1.0f / std::sqrt(float(r.head_dim)), n_ctx, r.rope_dims, r.freq_base, r.n_freq_factors, 0, 0, 0,
                  fused_rows};
  std::vector<Binding> b{qkv, step, kc, vc, out, freq, part, count};
  if (qa) b.insert(b.end(), {*qa.xq, *qa.xds});
  const Kernel* k = kernel_;
  if (cs.chain_flags() && chain_kernel_ && qa) {  // a link of the stream's dispatch chain
    cs.link(p, b, r.n_heads * splits_);
    k = chain_kernel_;
  }
  cs.dispatch_with(*k, b, p, {r.n_heads, splits_, 1});
}

Swiglu::Swiglu(Device& device, bool quant_out, ActType out_type)
    : device_(device), quant_out_(quant_out), out_type_(out_type) {
  if (quant_out && out_type == ActType::f16) throw InputError("swiglu: an fp16 output has no quantized form");
  wg_ = pick_workgroup_size(device.caps(), quant_out ? 64 : 256);
  const char* op = quant_out ? "swiglu_q8" : out_type == ActType::f16 ? "swiglu_f16" : "swiglu";
  kernel_ = &device.kernel({select_variant(device, op), {wg_}, sizeof(pc::Swiglu)});
}

void Swiglu::record(CommandStream& cs, const Buffer& in, const Buffer& out, uint32_t n, uint32_t width,
                    uint32_t in_stride, uint32_t up_offset, uint32_t out_stride, QuantizedActivations q) const {
  check_size(in, (uint64_t(n - 1) * in_stride + up_offset + width) * 4, "swiglu", "input");
  const bool f16 = out_type_ == ActType::f16;
  if (f16 && (width % 2 || out_stride % 2)) throw InputError("swiglu_f16: width and output stride must be even");
  check_size(out, (uint64_t(n - 1) * out_stride + width) * (f16 ? 2 : 4), "swiglu", "output");
  check_quantized(quant_out_, q, n, width, "swiglu");
  const pc::Swiglu p{n, width, in_stride, up_offset, out_stride};
  if (q)  // one invocation per 32-block
    cs.dispatch(*kernel_, {in, out, *q.xq, *q.xds}, p, {stride_groups(uint64_t(n) * width / 32, wg_), 1, 1});
  else  // fp16: one invocation per pair
    cs.dispatch(*kernel_, {in, out}, p, {stride_groups(uint64_t(n) * width / (f16 ? 2 : 1), wg_), 1, 1});
}

FillRandom::FillRandom(Device& device) : device_(device) {
  wg_ = pick_workgroup_size(device.caps(), 256);
  kernel_ = &device.kernel({select_variant(device, "fill_random"), {wg_}, sizeof(pc::FillRandom)});
}

void FillRandom::record(CommandStream& cs, const Buffer& buf, uint64_t words, uint32_t seed, Mode mode,
                        float scale) const {
  check_size(buf, words * 4, "fill_random", "target");
  if (words == 0) return;
  if (words > 0xffffffffull) throw InputError("fill_random: more than 2^32 words");
  const uint64_t groups = (words + wg_ - 1) / wg_;
  const auto g = grid_2d(groups);
  const pc::FillRandom p{static_cast<uint32_t>(words), seed, 0, static_cast<uint32_t>(mode), scale, g[0]};
  cs.dispatch(*kernel_, {buf}, p, g);
}

}  // namespace vkq::ops
