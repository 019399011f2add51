#version 450
// Prefill GEMM (n > 8 columns) with shared-memory tiles and no subgroup
// operations, so it runs on every device:
//   Y[j][row0 + i] = sum_k W[i][k] * X[j][k],  i < rows, j < n, k < K
// (the same function as matvec.comp, for any n).
//
// A workgroup computes a BM x BN tile of Y: weight rows m0 .. m0+BM-1 against
// activation columns n0 .. n0+BN-1. K advances one 32-weight block at a
// time: the workgroup dequantizes the BM x 32 weight tile (decode_granule,
// w = d q + m) and loads the BN x 32 activation tile, both as fp32 in shared
// memory stored k-major (ws[k][m], xs[k][j], rows padded by PAD floats so
// the transposing stores hit distinct banks), then each invocation
// accumulates TM x TN outputs in fp32 registers. Invocation (tx, ty) owns
// rows tx + a (BM / TM) and columns ty + b (BN / TN): reads of ws[k][.] by
// consecutive invocations are consecutive floats, and writes of Y are
// coalesced along rows.
//
// Tails: rows past `rows` are read clamped and not stored; columns past n
// read as zero and are not stored; K: the GPU layout is zero-padded to Kp
// (multiple of 32) and X is read as zero for k >= K (K is a multiple of 4).
//
// Grid: x (+ z * groups_x) over row tiles, y over column tiles.
// Bindings: 0 quants, [1 scales], then X, then Y (activations.glsl).
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_MATMUL
#include "push_constants.h"
#include "weights.glsl"
#include "activations.glsl"

layout(constant_id = 0) const uint WG_SIZE = 256;  // (BM / TM) * (BN / TN)
layout(constant_id = 1) const uint BM = 64;        // weight rows per tile
layout(constant_id = 2) const uint BN = 64;        // activation columns per tile
layout(constant_id = 3) const uint TM = 4;         // rows per invocation
layout(constant_id = 4) const uint TN = 4;         // columns per invocation
layout(constant_id = 5) const uint PAD = 1;        // floats of padding per shared row (0 or 1)
layout(local_size_x_id = 0) in;

const uint BK = 32;                // K per step: one quant block
const uint GPB = BK / WG_ELEMS;    // granules per row and step
const uint WS_STRIDE = BM + PAD;
const uint XS_STRIDE = BN + PAD;
shared float ws_tile[BK * WS_STRIDE];  // [k][m]: dequantized weights
shared float xs_tile[BK * XS_STRIDE];  // [k][j]: activations

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint m0 = (gl_WorkGroupID.x + gl_WorkGroupID.z * pc.groups_x) * BM;
  if (m0 >= pc.rows) return;  // uniform per workgroup
  const uint n0 = gl_WorkGroupID.y * BN;
  const uint gpr = pc.Kp / WG_ELEMS;  // granules per weight row
  const uint TX = BM / TM, TY = BN / TN;
  const uint tx = tid % TX, ty = tid / TX;

  float acc[TM * TN];
  for (uint i = 0; i < TM * TN; ++i) acc[i] = 0.0;

  for (uint kb = 0; kb < pc.Kp / BK; ++kb) {
    // Weight tile: BM rows x GPB granules; consecutive invocations read
    // consecutive granules of a row (coalesced).
    for (uint g = tid; g < BM * GPB; g += WG_SIZE) {
      const uint r = g / GPB, part = g % GPB;
      const uint row = min(m0 + r, pc.rows - 1);
      vec4 q[WG_VEC4];
      decode_granule(wq[row * gpr + kb * GPB + part], q);
#ifdef WQUANT
      const vec2 dm = block_scale(row * (pc.Kp / 32) + kb);
#else
      const vec2 dm = vec2(1.0, 0.0);
#endif
      const uint k = part * WG_ELEMS;
      for (uint v = 0; v < WG_VEC4; ++v) {
        const vec4 w = q[v] * dm.x + dm.y;
        ws_tile[(k + 4 * v + 0) * WS_STRIDE + r] = w.x;
        ws_tile[(k + 4 * v + 1) * WS_STRIDE + r] = w.y;
        ws_tile[(k + 4 * v + 2) * WS_STRIDE + r] = w.z;
        ws_tile[(k + 4 * v + 3) * WS_STRIDE + r] = w.w;
      }
    }
    // Activation tile: BN columns x 8 vec4s.
    for (uint g = tid; g < BN * (BK / 4); g += WG_SIZE) {
      const uint j = g / (BK / 4), v = g % (BK / 4);
      const uint k = kb * BK + 4 * v;
      vec4 x4 = vec4(0.0);
      if (n0 + j < pc.n && k < pc.K) x4 = load_x4(((n0 + j) * pc.x_stride + k) >> 2);
      xs_tile[(4 * v + 0) * XS_STRIDE + j] = x4.x;
      xs_tile[(4 * v + 1) * XS_STRIDE + j] = x4.y;
      xs_tile[(4 * v + 2) * XS_STRIDE + j] = x4.z;
      xs_tile[(4 * v + 3) * XS_STRIDE + j] = x4.w;
    }
    barrier();
    for (uint k = 0; k < BK; ++k) {
      float a[TM], b[TN];
      for (uint i = 0; i < TM; ++i) a[i] = ws_tile[k * WS_STRIDE + tx + i * TX];
      for (uint j = 0; j < TN; ++j) b[j] = xs_tile[k * XS_STRIDE + ty + j * TY];
      for (uint i = 0; i < TM; ++i)
        for (uint j = 0; j < TN; ++j) acc[i * TN + j] = fma(a[i], b[j], acc[i * TN + j]);
    }
    barrier();
  }

  for (uint j = 0; j < TN; ++j) {
    const uint col = n0 + ty + j * TY;
    if (col >= pc.n) break;
    for (uint i = 0; i < TM; ++i) {
      const uint r = m0 + tx + i * TX;
      if (r < pc.rows) store_y(col * pc.y_stride + pc.row0 + r, acc[i * TN + j]);
    }
  }
}
