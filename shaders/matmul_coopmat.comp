#version 450
// Prefill GEMM on cooperative matrices (VK_KHR_cooperative_matrix, 16x16x16
// fp16 x fp16 -> fp32, subgroup scope):
//   Y[j][row0 + i] = sum_k W[i][k] * X[j][k],  i < rows, j < n, k < K
// (the same function as matvec.comp and matmul_tiled.comp).
//
// In matrix terms C = A B with A = W (BM x K tile, rows m), B = X^T (K x BN,
// B[k][j] = X[j][k]) and C[m][j] = Y[j][m]: C is stored column-major with
// stride y_stride, which is Y's own layout.
//
// A workgroup computes a BM x BN tile of C. K advances KB 32-weight blocks
// (BK = 32 KB, 2 KB 16-deep MMA steps) at a time through NBUF shared-memory
// buffers: while the subgroups multiply the tiles of step s, each invocation
// holds the raw global data of step s+1 in registers (16-byte quant
// granules, scale words, activation vec4s) and writes it, dequantized to
// fp16 (w = d q + m in fp32, then rounded once), into the other buffer after
// the MMAs; one barrier per step (NBUF = 2), or into the same buffer after a
// second barrier (NBUF = 1: half the shared memory, for a deeper step). The
// host keeps Kp a multiple of BK.
//   a_tile[buf][m][k]  fp16, row-major (A), rows of BK + 8 halves (80 bytes
//                      at BK = 32, 144 at 64: 16-byte aligned and spread
//                      over the banks);
//   b_tile[buf][j][k]  fp16, = B column-major, same row pitch.
// Subgroups split the tile into (BM / WM) x (BN / WN) subgroup tiles of
// (WM / 16) x (WN / 16) fragments; subgroup s takes tiles s, s + nsub, ...
// (at most WT_MAX of them, set by the host for the largest subgroup size).
// The tiling follows gl_SubgroupID / gl_NumSubgroups, so the kernel is
// correct for any subgroup size that divides WG_SIZE.
//
// Output: a fragment wholly inside Y, with 16-byte aligned start and stride,
// is stored directly; any other one goes through a per-subgroup 16 x 16 fp32
// staging area in shared memory and is written with bounds checks.
//
// Accuracy: weights and activations are rounded to fp16 (relative 2^-11
// each; magnitudes above 65504 overflow), products accumulate in fp32.
//
// Grid: x (+ z * groups_x) over row tiles, y over column tiles, walked in
// the order COLS_FIRST picks (common/gemm_tile.glsl).
// Bindings: 0 quants, [1 scales], then X, then Y (activations.glsl).
//
// COOPMAT_EMULATED builds the same kernel without cooperative matrices, for
// tests on devices that lack them (lavapipe): the five fragment operations
// below (FRAG_*) follow the KHR semantics on plain shared memory, so the
// tiling, shared layouts, offsets, strides, staging and bounds run there.
#extension GL_GOOGLE_include_directive : require
#ifndef COOPMAT_EMULATED
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#endif
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require
#define VKQ_PC_MATMUL
#include "push_constants.h"
#include "weights.glsl"
#include "activations.glsl"
#include "gemm_tile.glsl"

layout(constant_id = 0) const uint WG_SIZE = 128;  // a multiple of the subgroup size
layout(constant_id = 1) const uint BM = 128;       // tile rows (multiple of WM)
layout(constant_id = 2) const uint BN = 128;       // tile columns (multiple of WN)
layout(constant_id = 3) const uint WM = 64;        // subgroup tile rows (multiple of 16)
layout(constant_id = 4) const uint WN = 64;        // subgroup tile columns (multiple of 16)
layout(constant_id = 5) const uint WT_MAX = 1;     // subgroup tiles per subgroup, at most
layout(constant_id = 6) const uint NSUB_MAX = 4;   // subgroups per workgroup, at most
layout(constant_id = 7) const uint KB = 2;         // quant blocks per step
layout(constant_id = 8) const uint NBUF = 1;       // shared-memory buffers per operand (1 or 2)
layout(constant_id = 9) const bool COLS_FIRST = false;  // tile order: column tiles of a row block adjacent
layout(local_size_x_id = 0) in;

const uint BK = 32 * KB;            // K per step
const uint EPB = 32 / WG_ELEMS;     // granules per quant block (WG_ELEMS <= 32)
const uint GPB = BK / WG_ELEMS;     // weight granules per row and step
const uint XPB = BK / 4;            // activation vec4s per column and step
const uint PITCH = (BK + 8) / 4;    // f16vec4s per shared row (2 BK + 16 bytes)
const uint FM = WM / 16, FN = WN / 16;
const uint TILES_M = BM / WM;
const uint NWT = (BM / WM) * (BN / WN);
const uint A_LOADS = (BM * GPB + WG_SIZE - 1) / WG_SIZE;
const uint B_LOADS = (BN * XPB + WG_SIZE - 1) / WG_SIZE;

shared f16vec4 a_tile[NBUF * BM * PITCH];
shared f16vec4 b_tile[NBUF * BN * PITCH];
shared float stage[NSUB_MAX * 256];

// Fragment operations: A (16 x 16 of a_tile, row-major), B (16 x 16 of
// b_tile, column-major), C (16 x 16 fp32 accumulator, stored column-major).
// Offsets and strides of tiles are in f16vec4s, of Y and stage in floats.
#ifndef COOPMAT_EMULATED
#define FRAG_A coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA>
#define FRAG_B coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB>
#define FRAG_C coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>
#define FRAG_ZERO(c) c = FRAG_C(0.0)
#define FRAG_LOAD_A(a, off) coopMatLoad(a, a_tile, off, PITCH, gl_CooperativeMatrixLayoutRowMajor)
#define FRAG_LOAD_B(b, off) coopMatLoad(b, b_tile, off, PITCH, gl_CooperativeMatrixLayoutColumnMajor)
#define FRAG_MMA(c, a, b) c = coopMatMulAdd(a, b, c)
#define FRAG_STORE_Y(c, off, stride) coopMatStore(c, y, off, stride, gl_CooperativeMatrixLayoutColumnMajor)
#define FRAG_STORE_STAGE(c, off) coopMatStore(c, stage, off, 16, gl_CooperativeMatrixLayoutColumnMajor)
#else
// A and B are references into the tiles (read at the MMA, which is the same
// data: tiles change only across barriers); lane l of a subgroup holds C
// elements e = l + i * subgroup size in c[i] (row e % 16, column e / 16), at
// most 256 / (WG_SIZE / NSUB_MAX) of them.
const uint EMU_SLOTS = 256 * NSUB_MAX / WG_SIZE;
#define FRAG_A uint
#define FRAG_B uint
#define FRAG_C float[EMU_SLOTS]
#define FRAG_ZERO(c) for (uint i_ = 0; i_ < EMU_SLOTS; ++i_) c[i_] = 0.0
#define FRAG_LOAD_A(a, off) a = (off)
#define FRAG_LOAD_B(b, off) b = (off)
#define FRAG_MMA(c, a, b) frag_mma(c, a, b)
#define FRAG_STORE_Y(c, off, stride) frag_store_y(c, off, stride)
#define FRAG_STORE_STAGE(c, off) frag_store_stage(c, off)
float tile_a(uint off) { return float(a_tile[off >> 2][off & 3u]); }
float tile_b(uint off) { return float(b_tile[off >> 2][off & 3u]); }
void frag_mma(inout float c[EMU_SLOTS], uint a, uint b) {
  for (uint i = 0, e = gl_SubgroupInvocationID; e < 256; ++i, e += gl_SubgroupSize) {
    const uint m = e & 15u, n = e >> 4;
    float acc = c[i];
    for (uint k = 0; k < 16; ++k)  // A[m][k] at a + m * PITCH (row-major), B[k][n] at b + n * PITCH (column-major)
      acc += tile_a(4 * (a + m * PITCH) + k) * tile_b(4 * (b + n * PITCH) + k);
    c[i] = acc;
  }
}
void frag_store_y(float c[EMU_SLOTS], uint off, uint stride) {
  for (uint i = 0, e = gl_SubgroupInvocationID; e < 256; ++i, e += gl_SubgroupSize)
    store_y(off + (e >> 4) * stride + (e & 15u), c[i]);
}
void frag_store_stage(float c[EMU_SLOTS], uint off) {
  for (uint i = 0, e = gl_SubgroupInvocationID; e < 256; ++i, e += gl_SubgroupSize) stage[off + e] = c[i];
}
#endif

#ifdef ACT_F16
#define XRAW uvec2
f16vec4 x_to_half(uvec2 u) { return f16vec4(unpackFloat2x16(u.x), unpackFloat2x16(u.y)); }
#else
#define XRAW vec4
f16vec4 x_to_half(vec4 v) { return f16vec4(v); }
#endif

// Registers holding the next step's global data (see the header).
uvec4 ga[A_LOADS];
#ifdef WQUANT
uint gs[A_LOADS];
#endif
XRAW gb[B_LOADS];

uint m0, n0, gpr, bpr;

void fetch(uint kb) {
  const uint tid = gl_LocalInvocationID.x;
  [[unroll]] for (uint i = 0; i < A_LOADS; ++i) {
    const uint g = tid + i * WG_SIZE;
    if (g < BM * GPB) {
      const uint row = min(m0 + g / GPB, pc.rows - 1);  // rows past the end: read clamped, never stored
      ga[i] = wq[row * gpr + kb * GPB + g % GPB];
#ifdef WQUANT
      gs[i] = ws[scale_word(row * bpr + kb * KB + (g % GPB) / EPB)];
#endif
    }
  }
  [[unroll]] for (uint i = 0; i < B_LOADS; ++i) {
    const uint g = tid + i * WG_SIZE;
    const uint j = g / XPB, k = kb * BK + 4 * (g % XPB);
    gb[i] = XRAW(0);
    if (j < BN && n0 + j < pc.n && k < pc.K) gb[i] = xv[((n0 + j) * pc.x_stride + k) >> 2];
  }
}

void stash(uint buf, uint kb) {
  const uint tid = gl_LocalInvocationID.x;
  [[unroll]] for (uint i = 0; i < A_LOADS; ++i) {
    const uint g = tid + i * WG_SIZE;
    if (g < BM * GPB) {
      const uint r = g / GPB;
      vec4 q[WG_VEC4];
      decode_granule(ga[i], q);
#ifdef WQUANT
      const vec2 dm = decode_scale(gs[i], min(m0 + r, pc.rows - 1) * bpr + kb * KB + (g % GPB) / EPB);
#else
      const vec2 dm = vec2(1.0, 0.0);
#endif
      const uint base = (buf * BM + r) * PITCH + (g % GPB) * WG_VEC4;
      [[unroll]] for (uint v = 0; v < WG_VEC4; ++v) a_tile[base + v] = f16vec4(q[v] * dm.x + dm.y);
    }
  }
  [[unroll]] for (uint i = 0; i < B_LOADS; ++i) {
    const uint g = tid + i * WG_SIZE;
    const uint j = g / XPB;
    if (j < BN) b_tile[(buf * BN + j) * PITCH + g % XPB] = x_to_half(gb[i]);
  }
}

void main() {
  const uvec2 tile = gemm_tile(COLS_FIRST);
  m0 = tile.x * BM;
  if (m0 >= pc.rows) return;  // uniform per workgroup
  n0 = tile.y * BN;
  gpr = pc.Kp / WG_ELEMS;
  bpr = pc.Kp / 32;
  const uint sg = gl_SubgroupID, nsub = gl_NumSubgroups;

  FRAG_C acc[WT_MAX * FM * FN];
  [[unroll]] for (uint i = 0; i < WT_MAX * FM * FN; ++i) FRAG_ZERO(acc[i]);

  const uint steps = pc.Kp / BK;
  fetch(0);
  stash(0, 0);
  barrier();
  for (uint s = 0; s < steps; ++s) {
    const uint cur = NBUF == 2u ? s & 1u : 0u;
    const bool more = s + 1 < steps;
    if (more) fetch(s + 1);  // global loads in flight during the MMAs
    [[unroll]] for (uint t = 0; t < WT_MAX; ++t) {
      const uint wt = sg + t * nsub;
      if (wt < NWT) {  // uniform per subgroup
        const uint a0 = (cur * BM + (wt % TILES_M) * WM) * PITCH;
        const uint b0 = (cur * BN + (wt / TILES_M) * WN) * PITCH;
        [[unroll]] for (uint kk = 0; kk < BK / 4; kk += 4) {  // 16 halves = 4 f16vec4s per MMA step
          FRAG_B fb[FN];
          [[unroll]] for (uint j = 0; j < FN; ++j) FRAG_LOAD_B(fb[j], b0 + j * 16 * PITCH + kk);
          [[unroll]] for (uint i = 0; i < FM; ++i) {
            FRAG_A fa;
            FRAG_LOAD_A(fa, a0 + i * 16 * PITCH + kk);
            [[unroll]] for (uint j = 0; j < FN; ++j) FRAG_MMA(acc[(t * FM + i) * FN + j], fa, fb[j]);
          }
        }
      }
    }
    if (NBUF == 1u) barrier();  // this step's reads done before the stash overwrites them
    if (more) stash(NBUF == 2u ? cur ^ 1u : 0u, s + 1);
    barrier();  // this step's reads done before the next overwrite; stash visible
  }

  // Output. Fragment (i, j) of subgroup tile wt covers C rows r0 .. r0+15 and
  // columns c0 .. c0+15, i.e. Y[c0 + b][row0 + r0 + a]. Every subgroup runs
  // the same sequence of subgroup barriers, whether or not it has the
  // fragment (some drivers, lavapipe among them, misbehave otherwise).
  // Direct fragment stores need a 16-byte start and stride, and overwrite:
  // accumulating outputs go through the stage.
  const bool aligned = (pc.y_stride & 3u) == 0 && (pc.row0 & 3u) == 0 && pc.accumulate == 0u;
  const uint lane = gl_SubgroupInvocationID;
  [[unroll]] for (uint t = 0; t < WT_MAX; ++t) {
    const uint wt = sg + t * nsub;
    [[unroll]] for (uint i = 0; i < FM; ++i) {
      [[unroll]] for (uint j = 0; j < FN; ++j) {
        const uint r0 = m0 + (wt % TILES_M) * WM + i * 16;
        const uint c0 = n0 + (wt / TILES_M) * WN + j * 16;
        const uint c = (t * FM + i) * FN + j;
        const bool inside = wt < NWT && r0 < pc.rows && c0 < pc.n;  // uniform per subgroup
        const bool direct = inside && aligned && r0 + 16 <= pc.rows && c0 + 16 <= pc.n;
        if (direct)
          FRAG_STORE_Y(acc[c], c0 * pc.y_stride + pc.row0 + r0, pc.y_stride);
        else if (inside)
          FRAG_STORE_STAGE(acc[c], sg * 256);
        subgroupBarrier();
        if (inside && !direct) {
          for (uint e = lane; e < 256; e += gl_SubgroupSize) {
            const uint r = r0 + (e & 15u), col = c0 + (e >> 4);
            if (r < pc.rows && col < pc.n) store_y(col * pc.y_stride + pc.row0 + r, stage[sg * 256 + e]);
          }
        }
        subgroupBarrier();  // reads done before the next fragment is staged
      }
    }
  }
}
