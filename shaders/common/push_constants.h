// Push-constant blocks shared by GLSL and C++: declared once here.
//
// In C++ each block is a struct in namespace vkq::pc with a size check.
// In GLSL a shader defines VKQ_PC_<NAME> before including this file and gets
// `layout(push_constant) uniform <Name> { ... } pc;`.
// Only 4-byte scalars (u32, i32, f32) are used, so std430 push-constant layout
// and the C++ layout agree member for member.
#ifndef VKQ_PUSH_CONSTANTS_H
#define VKQ_PUSH_CONSTANTS_H

#ifdef __cplusplus
#include <cstdint>
namespace vkq::pc {
using u32 = std::uint32_t;
using i32 = std::int32_t;
using f32 = float;
#define VKQ_PC_BEGIN(Name) struct Name {
#define VKQ_PC_END(Name, bytes) }; static_assert(sizeof(Name) == (bytes), #Name " size must match GLSL");
#else
#define u32 uint
#define i32 int
#define f32 float
#define VKQ_PC_BEGIN(Name) layout(push_constant) uniform Name {
#define VKQ_PC_END(Name, bytes) } pc;
#endif

// elementwise_add.comp: z[i] = x[i] + y[i], i < n; copy_buffer.comp: n uvec4s.
#if defined(__cplusplus) || defined(VKQ_PC_ELEMENTWISE)
VKQ_PC_BEGIN(Elementwise)
  u32 n;          // number of elements
VKQ_PC_END(Elementwise, 4)
#endif

// read_stream.comp CHAIN: n uvec4s read, and the chain's link (as in Matmul).
#if defined(__cplusplus) || defined(VKQ_PC_READ_CHAIN)
VKQ_PC_BEGIN(ReadChain)
  u32 n;
  u32 wait_flag;
  u32 wait_count;
  u32 signal_flag;
VKQ_PC_END(ReadChain, 16)
#endif

// read_persist.comp: the chain's stages walked by one dispatch, and the
// polls after which a grid-wide wait gives up.
#if defined(__cplusplus) || defined(VKQ_PC_READ_PERSIST)
VKQ_PC_BEGIN(ReadPersist)
  u32 n_stages;
  u32 spin_limit;
VKQ_PC_END(ReadPersist, 8)
#endif

// reduce_sum.comp: out[r] = sum_c in[r * cols + c], r < rows.
#if defined(__cplusplus) || defined(VKQ_PC_REDUCE_ROWS)
VKQ_PC_BEGIN(ReduceRows)
  u32 rows;
  u32 cols;
  u32 rows_per_grid_x;  // rows are spread over a 2-D grid: r = x + y * rows_per_grid_x
VKQ_PC_END(ReduceRows, 12)
#endif

// matvec.comp / matmul_*.comp: Y[j][row0 + i] = sum_k W[i][k] * X[j][k] for
// i < rows (one chunk of weight rows), k < K, j < n activation columns.
//   rows        weight rows in this chunk (M of the chunk)
//   K           row length in weights (activations per column)
//   Kp          row length in the GPU layout (K rounded up to 32)
//   n           activation columns
//   x_stride    elements between activation columns (>= K, multiple of 4)
//   y_stride    elements between output columns (>= row0 + rows)
//   row0        first output row of this chunk
//   groups_x    workgroups in grid x; group id = x + y * groups_x
//   accumulate  1: Y += W X (the residual add, fused); 0: Y = W X
//   epi_half    matvec_idot_block EPI_SWIGLU: gate rows (up rows follow them)
//   eps         matvec_idot_block IN_SCALE: the deferred RMSNorm's epsilon
//   wait_flag, wait_count, signal_flag: matvec_idot_block CHAIN
//               (common/chain.glsl): the flag to wait on, the count it must
//               reach (0: none), the flag this dispatch counts itself in.
#define VKQ_PC_MATMUL_FIELDS \
  u32 rows; u32 K; u32 Kp; u32 n; u32 x_stride; u32 y_stride; u32 row0; u32 groups_x; u32 accumulate; \
  u32 epi_half; f32 eps; u32 wait_flag; u32 wait_count; u32 signal_flag;
#if defined(__cplusplus) || defined(VKQ_PC_MATMUL)
VKQ_PC_BEGIN(Matmul)
  VKQ_PC_MATMUL_FIELDS
VKQ_PC_END(Matmul, 56)
#endif

// matvec_idot_block.comp EPI_ATTN: the QKV GEMV (Matmul's fields) whose
// last workgroup of each KV head's rows runs that head group's decode
// attention (RoPE, the KV-cache write, attention over rows 0 .. start_pos),
// while start_pos + 1 <= fused_rows.
#if defined(__cplusplus) || defined(VKQ_PC_MATMUL_ATTENTION)
VKQ_PC_BEGIN(MatmulAttention)
  VKQ_PC_MATMUL_FIELDS
  u32 n_heads;
  u32 n_kv_heads;
  u32 head_dim;
  u32 n_ctx;
  u32 rope_dims;
  f32 freq_base;
  u32 n_freq_factors;
  u32 fused_rows;  // the most attended rows (start_pos + 1) it attends; past it, none
VKQ_PC_END(MatmulAttention, 88)
#endif

// quantize_q8_1.comp: activations X[j][k] (k < K, j < n) -> int8 blocks of 32
// with (d, d * sum q) per block, for the integer-dot GEMV.
#if defined(__cplusplus) || defined(VKQ_PC_QUANTIZE_ACT)
VKQ_PC_BEGIN(QuantizeAct)
  u32 K;         // multiple of 32
  u32 n;
  u32 x_stride;  // elements between activation columns
  u32 groups_x;
VKQ_PC_END(QuantizeAct, 16)
#endif

// get_rows.comp: out[t][k] = W[tokens[t]][k] (dequantized) for the tokens
// whose row lies in this chunk (row0 <= token < row0 + rows), k < K.
#if defined(__cplusplus) || defined(VKQ_PC_GET_ROWS)
VKQ_PC_BEGIN(GetRows)
  u32 n_tokens;
  u32 K;           // row length (output width)
  u32 Kp;          // row length in the GPU layout
  u32 row0;        // first row of this chunk
  u32 rows;        // rows in this chunk
  u32 out_stride;  // elements between output rows
VKQ_PC_END(GetRows, 24)
#endif

// dequant_f16.comp: rows [row0, row0 + rows) of an fp16 plane (rows of Kp)
// from a block-type chunk of `rows` rows.
#if defined(__cplusplus) || defined(VKQ_PC_DEQUANT_F16)
VKQ_PC_BEGIN(DequantF16)
  u32 rows;        // rows in this chunk
  u32 Kp;          // row length in the GPU layout (K: whole 32-blocks)
  u32 row0;        // the chunk's first row in the output plane
  u32 groups_x;    // workgroups in x (the grid's y adds groups_x each)
VKQ_PC_END(DequantF16, 16)
#endif

// rmsnorm.comp: out[out_offset + r * out_stride + i] =
//   x[r] / sqrt(mean(x[r]^2) + eps) * w[i], x[r] at in_offset + r * in_stride.
#if defined(__cplusplus) || defined(VKQ_PC_RMSNORM)
VKQ_PC_BEGIN(RmsNorm)
  u32 rows;
  u32 width;
  f32 eps;
  u32 in_offset;
  u32 in_stride;
  u32 out_offset;
  u32 out_stride;
VKQ_PC_END(RmsNorm, 28)
#endif

// rope_kv.comp: per token t at position start_pos + t (start_pos from the
// step buffer), rotates q in place and k, and writes k and v into cache row
// start_pos + t. Token t's qkv row (at t * qkv_stride) holds q [n_heads *
// head_dim], then k and v [n_kv_heads * head_dim] each.
#if defined(__cplusplus) || defined(VKQ_PC_ROPE_KV)
VKQ_PC_BEGIN(RopeKv)
  u32 n_tokens;
  u32 n_heads;
  u32 n_kv_heads;
  u32 head_dim;
  u32 rope_dims;       // even, <= head_dim: pairs past it are not rotated
  u32 qkv_stride;      // elements between tokens in qkv
  f32 freq_base;
  u32 n_freq_factors;  // 0: none; else rope_dims / 2 divisors in binding 2
  u32 n_ctx;           // cache rows (positions past it are not written)
VKQ_PC_END(RopeKv, 36)
#endif

// attention.comp: grouped-query attention, causal, for n tokens at
// positions start_pos + t over cache rows 0 .. start_pos + t.
// Decode attention's workgroups per head (SPLITS): at most this many (the
// kernel's shared weights per split; ops::Attention and the forward plan check).
#define VKQ_ATTENTION_SPLITS_MAX 64
#if defined(__cplusplus) || defined(VKQ_PC_ATTENTION)
VKQ_PC_BEGIN(Attention)
  u32 n_tokens;
  u32 n_heads;
  u32 n_kv_heads;
  u32 head_dim;
  u32 q_stride;    // elements between tokens in q
  u32 out_stride;  // elements between tokens in out
  f32 scale;       // 1 / sqrt(head_dim)
  u32 n_ctx;
  // ROPE_FUSED (decode, one token): q and this token's k are rotated here
  // and k, v written to the cache; q points at the token's qkv row.
  u32 rope_dims;
  f32 freq_base;
  u32 n_freq_factors;
  // CHAIN (common/chain.glsl), as in Matmul.
  u32 wait_flag;
  u32 wait_count;
  u32 signal_flag;
  // ROPE_FUSED: does nothing while start_pos + 1 <= fused_rows (the QKV
  // GEMV before it ran this token's attention: MatmulAttention); 0: always runs.
  u32 fused_rows;
VKQ_PC_END(Attention, 60)
#endif

// swiglu.comp: out[t][i] = silu(in[t][i]) * in[t][up_offset + i], i < width.
#if defined(__cplusplus) || defined(VKQ_PC_SWIGLU)
VKQ_PC_BEGIN(Swiglu)
  u32 n_tokens;
  u32 width;
  u32 in_stride;   // elements between tokens in in
  u32 up_offset;   // where the up half starts in a token's row
  u32 out_stride;
VKQ_PC_END(Swiglu, 20)
#endif

// fill_random.comp: words[i] from a hash of (seed, offset + i), i < n.
#if defined(__cplusplus) || defined(VKQ_PC_FILL_RANDOM)
VKQ_PC_BEGIN(FillRandom)
  u32 n;
  u32 seed;
  u32 offset;
  u32 mode;        // fill_random.comp: 0 raw bits, 1 fp16 pairs, 2 fp32, 3 fp32 near 1, 4 bf16 pairs
  f32 scale;
  u32 groups_x;
VKQ_PC_END(FillRandom, 24)
#endif

#ifdef __cplusplus
}  // namespace vkq::pc
#endif
#undef VKQ_PC_BEGIN
#undef VKQ_PC_END
#ifndef __cplusplus
#undef u32
#undef i32
#undef f32
#endif
#endif  // VKQ_PUSH_CONSTANTS_H
