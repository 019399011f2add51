// GPU kernels for the non-matmul ops of a llama forward pass, each tested
// against its CPU reference in ops/llama_ops_ref.hpp:
//   GetRows    token embedding lookup from a GpuMatrix (any weight type)
//   RmsNorm    per-row RMSNorm with a weight vector
//   RopeKv     RoPE on q (in place) and k, k and v into the KV cache
//   Attention  causal grouped-query attention over the KV cache
//   Swiglu     silu(gate) * up
//   FillRandom pseudo-random words (synthetic weights on the device)
// Shapes and bindings are on each record(); activations are fp32 row-major
// ([tokens][width], token t at t * stride). RmsNorm, Attention and Swiglu
// built with `quant_out` also write their output rows in the integer-dot
// GEMV's 8-bit blocks (QuantizedActivations), so decode needs no separate
// quantize dispatch before those matmuls. Positions come from a small
// `step` buffer holding the batch's start position (uint32), so a recorded
// decode step can be replayed at every position without re-recording.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "gpu_weights.hpp"
#include "ops/matmul.hpp"

namespace vkq::ops {

// KV cache element type: fp16 (two per uint32) or fp32.
enum class KvType { f16, f32 };
const char* kv_type_name(KvType t);                // "f16", "f32"
uint32_t kv_bytes_per_element(KvType t);           // 2 or 4
// A tuning variable's row count: `value` (of environment variable `name`)
// as a whole number from lo to hi; InputError naming the variable otherwise.
uint32_t env_row_count(const char* name, std::string_view value, uint32_t lo, uint32_t hi);

// Activations in the integer-dot GEMV's format (common/quantize_block.glsl):
// row j of width K at xq byte j * K (int8), (d, s) pairs at xds float 2 * j * K / 32.
// `ss` (RmsNorm built deferred): the blocks hold x * w unscaled and ss the
// sum of x^2 per block, a float each; the GEMV applies 1/rms (ops::InputScale).
struct QuantizedActivations {
  const Buffer* xq = nullptr;
  const Buffer* xds = nullptr;
  const Buffer* ss = nullptr;
  explicit operator bool() const { return xq != nullptr; }
};

class GetRows {
 public:
  GetRows(Device& device, GgmlType type);
  // out[t][k] = W[tokens[t]][k] for t < n_tokens, k < W.cols(); out rows
  // `out_stride` floats apart. Token ids must be < W.rows() (the caller checks).
  void record(CommandStream& cs, const GpuMatrix& w, const Buffer& tokens, const Buffer& out, uint32_t n_tokens,
              uint32_t out_stride) const;

 private:
  Device& device_;
  GgmlType type_;
  const Kernel* kernel_;
  uint32_t wg_;
};

class RmsNorm {
 public:
  // deferred (with quant_out): the rmsnorm_q8_deferred form; `out` is not
  // written and q.ss is required. out_type f16 (not with quant_out): `out`
  // holds fp16 (rmsnorm_f16; width, out_offset and out_stride even).
  explicit RmsNorm(Device& device, bool quant_out = false, bool deferred = false, ActType out_type = ActType::f32);
  // rows of `width`: in at in_offset + r * in_stride, out at out_offset + r * out_stride (elements).
  struct Shape {
    uint32_t rows, width;
    float eps;
    uint32_t in_offset = 0, in_stride = 0, out_offset = 0, out_stride = 0;  // strides 0 = width
  };
  // With quant_out, `q` receives the output rows too (width a multiple of 32).
  void record(CommandStream& cs, const Buffer& x, const Buffer& weight, const Buffer& out, Shape s,
              QuantizedActivations q = {}) const;

 private:
  Device& device_;
  bool quant_out_, deferred_;
  ActType out_type_;
  uint32_t wg_, cache4_ = 0;  // rmsnorm_q8: vec4s of the row kept in shared memory
  const Kernel* kernel_;
};

struct RopeShape {
  uint32_t n_heads = 0, n_kv_heads = 0, head_dim = 0, rope_dims = 0;
  float freq_base = 10000.0f;
  uint32_t n_freq_factors = 0;  // 0 = none, else rope_dims / 2
};

class RopeKv {
 public:
  RopeKv(Device& device, KvType kv);
  // qkv: [n_tokens][qkv_stride] fp32 (q, then k, then v); step: uint32
  // start_pos; freq: >= 1 float (the factors when shape.n_freq_factors > 0);
  // k_cache, v_cache: [n_ctx][n_kv_heads * head_dim] of the KV type.
  void record(CommandStream& cs, const Buffer& qkv, const Buffer& step, const Buffer& freq, const Buffer& k_cache,
              const Buffer& v_cache, uint32_t n_tokens, uint32_t qkv_stride, uint32_t n_ctx, const RopeShape& s) const;

 private:
  Device& device_;
  const Kernel* kernel_;
  uint32_t wg_;
};

// Decode attention's split of each head's cache rows over workgroups
// (flash-decoding): about 1024 workgroups in all, at least 8 cache rows per
// split at full context, at most 32 splits (on the H200, llama-2-7b Q4_0
// decode at 1 .. 64 splits: tg128 as fast at 32 as at 16, tg512 faster;
// at 64 the last workgroup's combine and the grid cost more than the
// shorter splits save; benchmarks/RESULTS.md). The same in a dispatch
// chain (VulkanForwardOptions::chain): its earlier default of n_ctx / 64
// splits, 1 .. 8, came from timings of a chain that computed wrong logits
// (RESULTS.md, calls 30 and 32); correct, the chain was 18.5% faster with
// 16 splits than with 2 at tg128 on the H100 (session of 2026-12-07).
uint32_t attention_splits(uint32_t n_heads, uint32_t n_ctx);
// The most splits per head the kernel takes (push_constants.h).
inline constexpr uint32_t kMaxAttentionSplits = 64;
// The split partials' buffer: per head and split, (m, l) and head_dim floats.
uint64_t attention_part_bytes(uint32_t n_heads, uint32_t head_dim, uint32_t splits);
// The per-head arrival counts (uint32, zero-initialised once).
inline uint64_t attention_count_bytes(uint32_t n_heads) { return uint64_t(n_heads) * 4; }

// The query-tiled prefill attention's workgroup: invocations, queries per
// tile, cache rows per chunk; none where no candidate's shared memory fits
// the device for this head size and cache type.
struct AttentionTile {
  uint32_t wg, queries, rows;
};

// attention_coopmat.comp's tile: nsub blocks of 16 queries (one subgroup
// each, wg invocations = nsub x the largest subgroup size), the cache in
// chunks of rows (a multiple of 16, at least 32).
struct AttentionCoopmatTile {
  uint32_t wg, nsub, rows;
};

class Attention {
 public:
  // fused_rope: the decode variant that also does rope_kv's work for its one
  // token (record_rope), with each head's rows split over `splits`
  // workgroups (attention_splits): attention_decode.comp where the device
  // has subgroup arithmetic (the splits it uses follow the context length),
  // attention.comp's ROPE_FUSED kernel where not.
  // tiled (not fused_rope): record takes, with an fp16 cache, the
  // cooperative-matrix kernel (attention_coopmat.comp) where the device has
  // 16x16x16 fp16 matrices and the shape suits it (attention_coopmat_tile);
  // else the query-tiled kernel (attention_tiled.comp: QT tokens of a head
  // per workgroup, the cache in chunks through shared memory) where its
  // tile fits the device (attention_tile), the one-token-per-workgroup
  // kernel where not; false takes the latter always.
  // VKQ_PREFILL_ATTENTION=auto|coopmat|tiled (A/B, tests): coopmat also
  // takes the emulated variant where the device has no matrices (lavapipe),
  // tiled never takes the cooperative-matrix kernel.
  Attention(Device& device, KvType kv, bool quant_out = false, bool fused_rope = false, uint32_t splits = 1,
            bool tiled = true);
  // q: token t's heads at t * q_stride; out: at t * out_stride (n_heads * head_dim each).
  void record(CommandStream& cs, const Buffer& q, const Buffer& step, const Buffer& k_cache, const Buffer& v_cache,
              const Buffer& out, uint32_t n_tokens, uint32_t q_stride, uint32_t out_stride, uint32_t n_ctx,
              uint32_t n_heads, uint32_t n_kv_heads, uint32_t head_dim, QuantizedActivations qa = {}) const;
  // Decode, one token at the step's position: qkv holds its q, k, v
  // (qkv_stride wide, as RopeKv reads it); rotates q and k, writes k and v
  // to cache row start_pos and attends to rows 0 .. start_pos.
  // part / count: attention_part_bytes / attention_count_bytes, count all
  // zero (the kernel leaves it so). fused_rows: the kernel does nothing
  // while start_pos + 1 <= fused_rows (the QKV GEMV before it took those
  // tokens: ops::AttentionTail).
  void record_rope(CommandStream& cs, const Buffer& qkv, const Buffer& step, const Buffer& freq, const Buffer& k_cache,
                   const Buffer& v_cache, const Buffer& out, const Buffer& part, const Buffer& count, uint32_t qkv_stride,
                   uint32_t n_ctx, const RopeShape& rope, QuantizedActivations qa = {}, uint32_t fused_rows = 0) const;
  uint32_t splits() const { return splits_; }
  // The variant record() dispatches for this head size (with strides that
  // are multiples of 4): the cooperative-matrix one where it is chosen and
  // its tile fits, else the query-tiled one where it is on and its tile
  // fits, else the one-token kernel.
  std::string variant_for(uint32_t head_dim) const;
  // tiled with an fp16 cache: the cooperative-matrix variant record takes
  // where its tile fits (attention_coopmat_*, maybe _emulated), else empty.
  const std::string& coopmat_variant() const { return coopmat_variant_; }

 private:
  std::optional<AttentionTile> tile_for(uint32_t head_dim) const;
  std::optional<AttentionCoopmatTile> coopmat_tile_for(uint32_t head_dim, uint32_t q_stride, uint32_t out_stride) const;
  void check_shape(uint32_t n, uint32_t n_heads, uint32_t n_kv_heads, uint32_t head_dim, uint32_t q_stride,
                   uint32_t out_stride) const;
  Device& device_;
  KvType kv_;
  bool quant_out_, fused_rope_, tiled_;
  std::string tiled_variant_;  // tiled_: attention_tiled_*, its pipeline made per head size at record
  std::string coopmat_variant_;  // tiled_ with an fp16 cache: attention_coopmat_*, or empty
  const Kernel* kernel_;
  const Kernel* chain_kernel_ = nullptr;  // fused rope with 8-bit output: a link of a dispatch chain
  uint32_t wg_, splits_;
  bool decode_registers_ = false;  // fused rope through attention_decode.comp (head_dim <= 4 x wg_)
};

std::optional<AttentionTile> attention_tile(const DeviceCaps& caps, uint32_t head_dim, KvType kv);
uint64_t attention_tile_shared_bytes(const AttentionTile& t, uint32_t head_dim, KvType kv);
// The cooperative-matrix kernel's tile for this head size (a multiple of
// 16, at most 256; 32 with an 8-bit output), the first candidate whose
// shared memory fits (VKQ_ATTENTION_COOPMAT_TILE=NSUB,ROWS sets it), or
// nothing. emulated: the test-only variant, which keeps q in a tile of its own.
std::optional<AttentionCoopmatTile> attention_coopmat_tile(const DeviceCaps& caps, uint32_t head_dim, bool quant_out,
                                                           bool emulated);
uint64_t attention_coopmat_shared_bytes(const AttentionCoopmatTile& t, uint32_t head_dim, bool emulated);

class Swiglu {
 public:
  // out_type f16 (not with quant_out): `out` holds fp16 (swiglu_f16; width
  // and out_stride even).
  explicit Swiglu(Device& device, bool quant_out = false, ActType out_type = ActType::f32);
  // out[t][i] = silu(in[t][i]) * in[t][up_offset + i], i < width.
  void record(CommandStream& cs, const Buffer& in, const Buffer& out, uint32_t n_tokens, uint32_t width,
              uint32_t in_stride, uint32_t up_offset, uint32_t out_stride, QuantizedActivations q = {}) const;

 private:
  Device& device_;
  bool quant_out_;
  ActType out_type_;
  const Kernel* kernel_;
  uint32_t wg_;
};

class FillRandom {
 public:
  enum class Mode : uint32_t { bits = 0, f16 = 1, f32 = 2, f32_near_one = 3, bf16 = 4 };
  explicit FillRandom(Device& device);
  // Fills the first `words` uint32 of `buf`.
  void record(CommandStream& cs, const Buffer& buf, uint64_t words, uint32_t seed, Mode mode, float scale) const;

 private:
  Device& device_;
  const Kernel* kernel_;
  uint32_t wg_;
};

}  // namespace vkq::ops
