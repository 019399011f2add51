#version 450
// Prefill GEMM on workgroup-scope cooperative matrices (VK_NV_cooperative_matrix2:
// tensor-addressed loads with a per-block decode function, the driver staging
// the tiles through shared memory itself):
//   Y[j][row0 + i] = sum_k W[i][k] * X[j][k],  i < rows, j < n, k < K
// (the same function as matmul_coopmat.comp and matmul_tiled.comp).
//
// In matrix terms C = A B with A = W (rows x Kp), B = X^T (B[k][j] = X[j][k])
// and C[m][j] = Y[j][row0 + m]. A workgroup computes one BM x BN tile of C,
// BK of K per step: A's BM x BK tile decoded from the GPU-native weight
// planes (weights.glsl) to fp16 by decode_w (one call per element, the block's
// 16- or 32-byte quant granule as a buffer reference, its scale from the
// scale plane), B's BK x BN tile read from X (fp16 activations only: with
// fp32 ones the KHR kernel measured faster; the forward pass converts them
// where this kernel pays, forward_plan.hpp gemm_reads_f16) by decode_x,
// accumulated in fp32.
//
// Bounds: a tile wholly inside W's rows and X's columns runs its steps with
// k0 + BK <= K on unclamped layouts; the other steps (and tiles) read
// through layouts that clamp to a constant 0 outside (A's rows past `rows`
// and K past Kp, B's columns past n and K past K), so partial tiles and a BK
// that does not divide K need no code of their own; stores outside Y's n
// columns and row0 + rows rows are dropped.
//
// Accuracy: as matmul_coopmat.comp (weights and activations rounded to fp16
// once, fp32 accumulation).
//
// Grid: x (+ z * groups_x) over row tiles, y over column tiles, walked in
// the order COLS_FIRST picks (common/gemm_tile.glsl).
// Bindings: 0 quants, [1 scales], then X, then Y (activations.glsl).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_cooperative_matrix : require
#extension GL_NV_cooperative_matrix2 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types : require
#extension GL_EXT_buffer_reference : require
#ifndef ACT_F16
#error "matmul_cm2.comp reads fp16 activations (ACT_F16)"
#endif
#define VKQ_PC_MATMUL
#include "push_constants.h"
#include "weights.glsl"
#include "activations.glsl"
#include "gemm_tile.glsl"

layout(constant_id = 0) const uint WG_SIZE = 256;  // one of the driver's workgroup-scope sizes
layout(constant_id = 1) const uint BM = 128;       // tile rows
layout(constant_id = 2) const uint BN = 128;       // tile columns
layout(constant_id = 3) const uint BK = 64;        // K per step
layout(constant_id = 4) const bool COLS_FIRST = false;  // tile order (gemm_tile.glsl)
layout(local_size_x_id = 0) in;

#if defined(WTYPE_Q4_0) || defined(WTYPE_Q4_1)
// One 32-weight block's nibbles (weights.glsl: byte j low = element j, high = j + 16).
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer WBlock { uvec4 q; };
#elif defined(WTYPE_Q8_0)
// One 32-weight block's int8 q, two granules.
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer WBlock { uvec4 q[2]; };
#endif

#ifdef WQUANT
// Element (row bc[0], K block bc[1], e = ci[1] within it) as fp16: d q + m.
// Q4_0 and Q8_0 in fp16 arithmetic: (q - 8) d and q d are one rounding of an
// exact product, as in fp32 then rounded (weights.glsl's d q + m).
float16_t decode_w(const in WBlock b, const in uint32_t bc[2], const in uint32_t ci[2]) {
  const uint e = ci[1], blk = bc[0] * (pc.Kp / 32u) + bc[1];
#if defined(WTYPE_Q8_0)
  const float16_t q = float16_t(bitfieldExtract(int(b.q[e >> 4][(e >> 2) & 3u]), int(8u * (e & 3u)), 8));
  return q * unpackFloat2x16(ws[blk >> 1])[blk & 1u];
#elif defined(WTYPE_Q4_0)
  const uint nib = (b.q[(e & 15u) >> 2] >> (8u * (e & 3u) + 4u * (e >> 4))) & 15u;
  return (float16_t(nib) - float16_t(8.0)) * unpackFloat2x16(ws[blk >> 1])[blk & 1u];
#else
  const uint nib = (b.q[(e & 15u) >> 2] >> (8u * (e & 3u) + 4u * (e >> 4))) & 15u;
  const vec2 dm = unpackHalf2x16(ws[blk]);
  return float16_t(float(nib) * dm.x + dm.y);
#endif
}
#endif

// fp16 weights in blocks of 8 (one 16-byte granule), fp16 activations in
// blocks of 4: read through decode functions too, as direct tensor loads
// (no decode function) measured 3-4x slower on the H100 (benchmarks/RESULTS.md).
#ifdef WTYPE_F16
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer WBlock { uvec4 q; };
float16_t decode_w(const in WBlock b, const in uint32_t bc[2], const in uint32_t ci[2]) {
  return unpackFloat2x16(b.q[ci[1] >> 1])[ci[1] & 1u];
}
#endif

// fp16 activations, four (8 bytes) per block.
layout(buffer_reference, std430, buffer_reference_align = 8) readonly buffer XBlock { uvec2 v; };
float16_t decode_x(const in XBlock b, const in uint32_t bc[2], const in uint32_t ci[2]) {
  return unpackFloat2x16(b.v[ci[1] >> 1])[ci[1] & 1u];
}

#define CLAMP0 gl_CooperativeMatrixClampModeConstantNV

// Tensor layouts of A (W: rows x Kp, in 1 x 32 blocks for the block types,
// 1 x 8 for fp16) and B (X: n rows of K, stride x_stride, in blocks of 4; B =
// X^T through a transposing view), with clamping (EDGE: a tile that reaches
// past W's rows, X's columns or K) or without (the interior, where every
// element is inside and the loads need no bounds checks).
#ifdef WQUANT
#define A_BLOCKS(t) t = setTensorLayoutBlockSizeNV(t, 1, 32)
#else
#define A_BLOCKS(t) t = setTensorLayoutBlockSizeNV(t, 1, 8)
#endif
// X's rows in blocks of 4 (x_stride is a multiple of 4: ops::Matmul).
#define B_SHAPE(t)                                    \
  t = setTensorLayoutBlockSizeNV(t, 1, 4);            \
  t = setTensorLayoutDimensionNV(t, pc.n, pc.K);      \
  t = setTensorLayoutStrideNV(t, pc.x_stride / 4u, 1)
#define LOAD_A(a, t, k0) coopMatLoadTensorNV(a, wq, 0, sliceTensorLayoutNV(t, m0, BM, k0, BK), decode_w)
#define LOAD_B(b, t, k0) coopMatLoadTensorNV(b, xv, 0, sliceTensorLayoutNV(t, n0, BN, k0, BK), transposed, decode_x)
#define STEP(ta, tb, k0)                                                    \
  {                                                                         \
    coopmat<float16_t, gl_ScopeWorkgroup, BM, BK, gl_MatrixUseA> a;         \
    LOAD_A(a, ta, k0);                                                      \
    coopmat<float16_t, gl_ScopeWorkgroup, BK, BN, gl_MatrixUseB> b;         \
    LOAD_B(b, tb, k0);                                                      \
    acc = coopMatMulAdd(a, b, acc);                                         \
  }

void main() {
  const uvec2 tile = gemm_tile(COLS_FIRST);
  const uint m0 = tile.x * BM;
  if (m0 >= pc.rows) return;  // uniform per workgroup
  const uint n0 = tile.y * BN;

  tensorLayoutNV<2, CLAMP0> ta_edge = createTensorLayoutNV(2, CLAMP0);
  A_BLOCKS(ta_edge);
  ta_edge = setTensorLayoutDimensionNV(ta_edge, pc.rows, pc.Kp);
  tensorLayoutNV<2> ta = createTensorLayoutNV(2);
  A_BLOCKS(ta);
  ta = setTensorLayoutDimensionNV(ta, pc.rows, pc.Kp);
  tensorLayoutNV<2, CLAMP0> tb_edge = createTensorLayoutNV(2, CLAMP0);
  B_SHAPE(tb_edge);
  tensorLayoutNV<2> tb = createTensorLayoutNV(2);
  B_SHAPE(tb);
  tensorViewNV<2, false, 1, 0> transposed = createTensorViewNV(2, false, 1, 0);

  // C: Y is n rows of row0 + rows outputs (stride y_stride), C = the
  // transposed slice at rows row0 + m0.., columns n0..; stores outside it
  // are dropped.
  tensorLayoutNV<2, CLAMP0> tc = createTensorLayoutNV(2, CLAMP0);
  tc = setTensorLayoutDimensionNV(tc, pc.n, pc.row0 + pc.rows);
  tc = setTensorLayoutStrideNV(tc, pc.y_stride, 1);
  tc = sliceTensorLayoutNV(tc, n0, BN, pc.row0 + m0, BM);

  coopmat<float, gl_ScopeWorkgroup, BM, BN, gl_MatrixUseAccumulator> acc =
      coopmat<float, gl_ScopeWorkgroup, BM, BN, gl_MatrixUseAccumulator>(0.0);
  if (pc.accumulate != 0u) coopMatLoadTensorNV(acc, y, 0, tc, transposed);

  // Interior steps: the tile's rows and columns inside, k0 + BK <= K (<= Kp).
  const bool interior = m0 + BM <= pc.rows && n0 + BN <= pc.n;
  const uint k_interior = interior ? pc.K / BK * BK : 0u;
  uint k0 = 0;
  for (; k0 < k_interior; k0 += BK) STEP(ta, tb, k0)
  for (; k0 < pc.Kp; k0 += BK) STEP(ta_edge, tb_edge, k0)
  coopMatStoreTensorNV(acc, y, 0, tc, transposed);
}
