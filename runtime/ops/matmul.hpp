// Dequant-matmul: Y[j][i] = sum_k W[i][k] * X[j][k] for a weight matrix W
// (GpuMatrix, any supported type) and n activation columns X (fp32 or fp16).
// n <= 8 runs the decode GEMV (op matvec_<type>_<act>, memory-bound); larger
// n runs the prefill GEMM (op matmul_<type>_<act>: workgroup-scope
// cooperative matrices where the driver has VK_NV_cooperative_matrix2, else
// cooperative matrices where it lists a 16x16x16 fp16 shape, else
// shared-memory tiles), all
// columns in one dispatch per weight chunk. Variants are chosen in
// variant_select (from DeviceCaps after VKQ_DEVICE_PROFILE) and reported by
// variant_for(). A forced variant is used for every n: a forced GEMV runs
// 8 columns at a time, a forced GEMM runs even for n <= 8.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "gpu_weights.hpp"
#include "ops/gemm_config.hpp"

namespace vkq::ops {

enum class ActType { f32, f16 };

// The op name of a matmul kernel family: "<kind>_<type>_<act>" with kind
// matvec or matmul and the type in lower case ("matmul_q4_0_f16"); its
// variants are that name plus "_<kind of kernel>" (shaders/variants.txt).
std::string matmul_op(const char* kind, GgmlType t, ActType a);
// The op name of DequantF16's kernels for `t` weights ("dequant_f16_q4_0").
std::string dequant_op(GgmlType t);

// CPU reference: fp64 accumulation over dequantized weights.
// w: M rows in GGUF layout; x: n columns of K (stride x_stride); y: n x M.
void matmul_ref(GgmlType t, const void* w, uint32_t M, uint32_t K, const float* x, uint32_t n, uint32_t x_stride,
                float* y);

// Activations as the kernels read them: the bytes of x as fp32, or as fp16
// (ActType::f16, then x itself is rounded to fp16 so that a CPU reference
// sees the values the GPU does).
std::vector<uint8_t> activation_bytes(std::vector<float>& x, ActType act);

// Whether a GEMM variant multiplies on fp16 matrices (cooperative
// matrices: _coopmat, its test-only _coopmat_emulated, _cm2; or a GEMM on
// DequantF16's copy, reported "dequant_f16_<type>+<GEMM variant>"),
// rounding weights and activations to fp16 (the tolerance of its checks).
inline bool gemm_rounds_to_fp16(const std::string& variant) {
  return variant.find("_coopmat") != std::string::npos || variant.ends_with("_cm2") ||
         variant.starts_with("dequant_f16_");
}

struct MatmulTuning {
  uint32_t wg = 0;    // GEMV workgroup size (0 = default)
  uint32_t rows = 0;  // GEMV rows per workgroup (0 = default)
  uint32_t unroll = 0;  // integer-dot GEMV: granules in flight per invocation (0 = default)
  // The GEMVs with an epilogue (matvec_idot_block.comp): invocations per
  // workgroup, and the most 16-byte weight loads in flight per invocation
  // (rows at a time x granules of each; 0 = defaults).
  uint32_t block_wg = 0, block_loads = 0;
  // The same for the residual GEMVs with the norm epilogue alone
  // (attn_output, down: 32 rows per workgroup, so a 4096-row output is
  // 128 workgroups, one per SM of an H100); 0 = defaults (1024
  // invocations unless block_wg is set, then that; block_loads' loads).
  uint32_t norm_wg = 0, norm_loads = 0;
  // x staged in shared memory where it fits: measured slower on the H200
  // (tg128 Q4_0 427 against 438 tokens/s; benchmarks/RESULTS.md), so off.
  bool block_stage = false;
  // The chain variants (CommandStream::begin_chain) stage x in shared memory
  // regardless (their x loads are coherent, from L2: one copy per workgroup
  // instead of one per subgroup); true: they read it as the others do.
  bool chain_unstaged = false;
  GemmTuning gemm;      // GEMM workgroup size and tile (0 = derived from the device)
};

// Work done by a decode GEMV's own workgroups after its rows (integer-dot
// GEMV, one activation column, the weight in one chunk;
// shaders/matvec_idot_block.comp: each workgroup owns whole 32-blocks of the
// epilogue's input) instead of a dispatch of its own:
//   swiglu: W is gate | up (gate rows first, as many up rows after them);
//           h = silu(gate) * up goes to xq / xds in 8-bit blocks.
//   norm:   W's rows add into the residual Y (accumulate); each workgroup
//           owns 32 of them and writes the RMSNorm after it in the deferred
//           form: Y * weight in 8-bit blocks, unscaled, to xq / xds, and
//           each block's sum of Y^2 to `ss` (the consumer GEMV applies
//           1/rms: InputScale).
struct GemvEpilogue {
  enum class Kind { swiglu, norm };
  Kind kind;
  Binding xq, xds;
  const Buffer* ss = nullptr;      // norm: a float per 32-block of Y
  const Buffer* weight = nullptr;  // norm: its weight, one float per row of W
};
// Activations in the deferred RMSNorm form (rmsnorm_q8_deferred or a norm
// epilogue): the GEMV multiplies its result by 1 / sqrt(sum(ss) / K + eps).
struct InputScale {
  const Buffer* ss = nullptr;  // K / 32 floats
  float eps = 0;
  explicit operator bool() const { return ss != nullptr; }
};

// Decode attention as the tail of the QKV GEMV (record_attention;
// shaders/common/qkv_attention.glsl): W is the stacked [q | k | v] matrix,
// its input a deferred norm's (InputScale). The GEMV's workgroups are
// grouped by KV head and the last of each group runs the group's attention
// for the token at the step buffer's start_pos, as ops::Attention's fused-
// rope decode kernel does: RoPE, k and v into cache row start_pos, attention
// over rows 0 .. start_pos, the output to `out` (fp32) and to xq / xds in
// 8-bit blocks. Only while start_pos + 1 <= fused_rows; past it the tail
// does nothing and the host records the split attention dispatch after it.
struct AttentionTail {
  bool kv_f16 = true;  // the cache's type: fp16 (kv_cache.glsl KV_F16) or fp32
  uint32_t n_heads = 0, n_kv_heads = 0, head_dim = 0, rope_dims = 0, n_freq_factors = 0;
  float freq_base = 10000.0f;
  uint32_t n_ctx = 0;       // cache rows
  uint32_t fused_rows = 0;  // the most attended rows (start_pos + 1) the tail takes
  const Buffer* step = nullptr;  // uint32 start_pos
  const Buffer *k_cache = nullptr, *v_cache = nullptr;
  const Buffer* out = nullptr;   // [n_heads][head_dim] fp32
  const Buffer* freq = nullptr;  // >= 1 float: the rope frequency factors where n_freq_factors > 0
  const Buffer* count = nullptr; // n_kv_heads words, zero between dispatches
  const Buffer *xq = nullptr, *xds = nullptr;  // the output in 8-bit blocks
};

// Decode's whole FFN in one dispatch (Matmul::record_ffn;
// shaders/matvec_idot_block.comp EPI_FFN): the gate | up GEMV on a deferred
// norm's output with SwiGLU as its epilogue, each workgroup's 32-block of h
// multiplied by its 32 columns of `down` and summed over the workgroups in
// 64-bit fixed point (integer atomics: the same sum in any order, so the
// same logits every run), and the last workgroup adding that to the
// residual and writing the next RMSNorm's input in the deferred form
// (GemvEpilogue norm's outputs).
struct FfnTail {
  const GpuMatrix* down = nullptr;  // rows = gate | up's K, cols = its rows / 2
  Binding xq, xds;                  // the next norm's 8-bit blocks (out)
  const Buffer* ss = nullptr;       // and its per-block sums of squares (out)
  const Buffer* weight = nullptr;   // its weight, down.rows() floats
  const Buffer* acc = nullptr;      // ffn_acc_bytes(down.rows()), zero between dispatches
};
// The fixed-point sums' buffer for `rows` residual rows: a count and a flag, then an int64 per row.
inline uint64_t ffn_acc_bytes(uint32_t rows) { return 16 + 8 * uint64_t(rows); }

class Matmul {
 public:
  Matmul(Device& device, GgmlType wtype, ActType act, std::string forced_variant = {}, MatmulTuning tuning = {});

  // X: n columns of W.cols() activations, column j at element j * x_stride
  // (0 = K); Y: n columns at j * y_stride (0 = y_offset + M), the M outputs
  // of column j at j * y_stride + y_offset (several matrices can write one
  // token's row side by side: q | k | v). Outputs are overwritten, or with
  // `accumulate` added to (Y += W X: the forward pass's residual add).
  // `epi`: the epilogue after it, where can_fuse() says it runs here.
  void record(CommandStream& cs, const GpuMatrix& w, const Buffer& x, const Buffer& y, uint32_t n,
              uint32_t x_stride = 0, uint32_t y_stride = 0, uint32_t y_offset = 0, bool accumulate = false,
              const GemvEpilogue* epi = nullptr);
  // Whether an epilogue can run in W's GEMV over n columns: integer-dot
  // GEMV, n = 1, one chunk; swiglu: each half of W's rows whole 32-blocks;
  // norm: W's rows whole 32-blocks.
  bool can_fuse(const GpuMatrix& w, uint32_t n, GemvEpilogue::Kind kind = GemvEpilogue::Kind::swiglu) const;
  // Whether n columns run the integer-dot GEMV, which reads activations in
  // 8-bit blocks: then record_quantized() takes them already quantized.
  bool uses_idot(uint32_t n) const { return idot_ && !use_gemm(n); }
  // The integer-dot GEMV on activations a producer op already quantized
  // (ops::QuantizedActivations layout, K = w.cols() per column): no
  // quantize dispatch. InputError unless uses_idot(n). `scale`: the
  // activations are a deferred RMSNorm's (one column; not with a norm
  // epilogue).
  void record_quantized(CommandStream& cs, const GpuMatrix& w, const Buffer& xq, const Buffer& xds, const Buffer& y,
                        uint32_t n, uint32_t y_stride = 0, uint32_t y_offset = 0, bool accumulate = false,
                        const GemvEpilogue* epi = nullptr, InputScale scale = {});
  // Whether gate | up's decode GEMV can take the whole FFN (FfnTail): the
  // device has 64-bit integer atomics, both weights of this type in one chunk,
  // gate | up's rows 2 x down's columns, in whole 32-blocks (VKQ_FFN_BLOCKS
  // = 1, 2 or 4 of them per workgroup: 64, 128 or 256 rows), down's rows
  // gate | up's columns.
  bool can_fuse_ffn(const GpuMatrix& gate_up, const GpuMatrix& down) const;
  // Residual += down(silu(gate) * up) for one token whose input is a
  // deferred norm's (`scale`), and the next norm's input (FfnTail).
  // InputError unless can_fuse_ffn.
  void record_ffn(CommandStream& cs, const GpuMatrix& gate_up, const Buffer& xq, const Buffer& xds, InputScale scale,
                  const Buffer& residual, const FfnTail& t);
  // Whether W's one-column GEMV can run `a`'s attention as its tail
  // (integer-dot GEMV with an input scale, one chunk, W's rows exactly q, k
  // and v of a's heads, head_dim a multiple of 32 and at most 256, at most 8
  // query heads per KV head, and the tail's registers and shared memory
  // within the device's limits).
  bool can_fuse_attention(const GpuMatrix& w, const AttentionTail& a) const;
  // The one-column GEMV Y = W X (X quantized, a deferred norm's: `scale`)
  // with `a`'s attention as its tail. InputError unless can_fuse_attention.
  void record_attention(CommandStream& cs, const GpuMatrix& w, const Buffer& xq, const Buffer& xds, const Buffer& y,
                        InputScale scale, const AttentionTail& a);
  // The GEMM (n above the GEMV's columns) of a plain-type matmul (F16) on an
  // M x K weight held in one plane of that type's GPU layout (rows of
  // padded_k(K)), e.g. DequantF16's copy of a block-type weight. X: n
  // columns of K.
  void record_plane(CommandStream& cs, const Buffer& plane, uint32_t M, uint32_t K, const Buffer& x, const Buffer& y,
                    uint32_t n, uint32_t y_stride = 0, uint32_t y_offset = 0, bool accumulate = false);
  std::string variant_for(uint32_t n) const;
  // Allocates the integer-dot path's activation scratch for up to n <= 8
  // columns of K now (nothing for other variants), so that later records
  // add no buffers: what the forward plan counts.
  void reserve_scratch(uint32_t n, uint32_t K);
  // The kernel's tuning for an M-row weight and n columns (tile, workgroup
  // size), for benchmark reports.
  std::string config_for(uint32_t M, uint32_t K, uint32_t n) const;

 private:
  const Kernel& gemv_kernel(uint32_t ncols, uint32_t K, const std::string& variant, uint32_t rows);
  // matvec_idot_block.comp's pipeline for `variant` on rows of K, wg_rows per workgroup.
  // extra: specialization constants after the four it sets (EPI_ATTN's,
  // EPI_FFN's); pc_bytes 0: pc::Matmul without them, pc::MatmulAttention with.
  const Kernel& block_kernel(const std::string& variant, uint32_t K, uint32_t wg_rows,
                             const std::vector<uint32_t>& extra = {}, uint32_t pc_bytes = 0);
  uint32_t block_wg(const std::string& variant) const;  // its invocations per workgroup
  // EPI_ATTN's specialization constants (GQ, HP, NPL, NSG_MAX) for `a`, or
  // none where its registers or shared memory do not fit.
  std::optional<std::vector<uint32_t>> attention_spec(const AttentionTail& a) const;
  uint32_t gemv_wg(uint32_t K) const;  // workgroup size for rows of K weights
  bool use_gemm(uint32_t n) const { return !gemm_variant_.empty() && n >= gemm_min_n_; }
  // The integer-dot GEMV dispatches, per 8-column group and weight chunk.
  void record_idot_gemv(CommandStream& cs, const GpuMatrix& w, const Buffer& xq, const Buffer& xds, const Buffer& y,
                        uint32_t n, uint32_t y_stride, uint32_t y_offset, bool accumulate, const GemvEpilogue* epi,
                        InputScale scale);
  void check_epilogue(const GpuMatrix& w, uint32_t n, const GemvEpilogue* epi, InputScale scale) const;
  void record_gemm(CommandStream& cs, const GpuMatrix& w, const Buffer& x, const Buffer& y, uint32_t n,
                   uint32_t x_stride, uint32_t y_stride, uint32_t y_offset, bool accumulate);
  // A weight's rows [row0, row0 + rows) in its planes (a chunk's, or a plane of a plain type).
  struct GemmPlanes {
    uint32_t row0 = 0, rows = 0;
    const Buffer* quants = nullptr;
    const Buffer* scales = nullptr;  // block types only
  };
  void record_gemm_planes(CommandStream& cs, std::span<const GemmPlanes> planes, uint32_t M, uint32_t K,
                          const Buffer& x, const Buffer& y, uint32_t n, uint32_t x_stride, uint32_t y_stride,
                          uint32_t y_offset, bool accumulate);
  // Scratch for quantized activations (_idot variants). Buffers are only
  // added, never replaced, while the op lives: recorded streams may still
  // reference the older ones.
  const Buffer& scratch(std::vector<Buffer>& pool, uint64_t bytes);

  Device& device_;
  GgmlType wtype_;
  ActType act_;
  std::string gemv_variant_;
  bool idot_ = false;
  std::string quantize_variant_;
  // Where idot (fp32 activations): matvec_idot_{swiglu,swiglu_scaled,norm,scaled}_<type>.
  std::string epi_swiglu_variant_, epi_swiglu_scaled_variant_, epi_norm_variant_, scaled_variant_;
  // The same as links of a dispatch chain (CommandStream::begin_chain): taken when the stream chains.
  std::string chain_swiglu_scaled_variant_, chain_norm_variant_, chain_scaled_variant_;
  // matvec_idot_attn_{f16,f32}kv_<type>: the QKV GEMV with attention's tail.
  std::string attn_f16kv_variant_, attn_f32kv_variant_;
  std::string ffn_variant_;  // matvec_idot_ffn_<type>, where the device has 64-bit integer atomics
  uint32_t ffn_blocks_ = 1;  // its 32-blocks of h per workgroup (VKQ_FFN_BLOCKS)
  bool ffn_early_ = false;   // its first down loads before the row sums meet (VKQ_FFN_EARLY)
  uint32_t wg_max_, rows_, unroll_, block_wg_, chain_wg_, block_loads_, chain_loads_, norm_wg_, norm_loads_;
  bool block_stage_, chain_unstaged_;
  bool wg_forced_ = false;
  std::string gemm_variant_;  // "" when a GEMV variant is forced
  uint32_t gemm_min_n_ = 0;   // smallest n that runs the GEMM
  bool coopmat_ = false;
  bool cm2_ = false;  // matmul_cm2.comp (VK_NV_cooperative_matrix2)
  GemmTuning gemm_tuning_;
  std::vector<Buffer> xq_, xds_;
};

// A block-type weight (Q4_0, Q4_1, Q8_0) dequantized into one fp16 plane in
// the F16 GPU layout (rows of K fp16;
// shaders/dequant_f16.comp): the prefill GEMM then runs on fp16 weights
// (Matmul::record_plane) where that is faster than decoding blocks in the
// GEMM (VulkanForward, VKQ_PREFILL_DEQUANT). Each weight is d * q + m
// rounded once to fp16.
class DequantF16 {
 public:
  DequantF16(Device& device, GgmlType type);
  // out[r][k] = fp16(W[r][k]) for every chunk of w (rows at their row0).
  void record(CommandStream& cs, const GpuMatrix& w, const Buffer& out) const;

 private:
  Device& device_;
  GgmlType type_;
  uint32_t wg_;
  const Kernel* kernel_;
};

}  // namespace vkq::ops
