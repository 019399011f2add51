#version 450
// Decode GEMVs (one token, integer dot products) whose workgroups each own
// whole 32-blocks of what the op after them reads, so that op runs as their
// epilogue and no workgroup waits for another (no arrival counts):
//   EPI_NORM   (attn_output, ffn_down: 32 rows per workgroup) Y += W x into
//              the residual, then for the RMSNorm after it (weight NW) Y * NW
//              in 8-bit blocks, unscaled, and the sum of Y^2 per block: the
//              deferred form of rmsnorm.comp DEFERRED, which the GEMVs after
//              it scale by 1/rms (IN_SCALE).
//   EPI_SWIGLU (gate | up: 64 rows per workgroup, the 32 gate rows of block
//              b and the 32 up rows pc.epi_half further on) Y = W x, then
//              h = silu(gate) * up of block b in 8-bit blocks.
//   neither    (32 rows per workgroup, any pc.rows) Y (+)= W x.
//   IN_SCALE   (with EPI_SWIGLU or neither) x is a deferred norm's output:
//              1/rms from its per-block sums of squares and pc.eps scales W x.
//   EPI_ATTN   (with IN_SCALE: the QKV GEMV, 32 rows per workgroup) the
//              workgroups grouped by KV head, the last of each group runs
//              that group's decode attention (common/qkv_attention.glsl;
//              push constants MatmulAttention).
// The workgroup's subgroups take RPS rows each at a time, a lane UNROLL
// granules of each (all loads issued before any is used), and each row is
// reduced within its subgroup; the row sums meet in shared memory, where
// one invocation writes Y and the block. Any subgroup size works: rows go
// to subgroups by gl_SubgroupID, granules to lanes by gl_SubgroupSize.
// XS > 1: the input x (K / 16 uvec4s of 8-bit values and K / 32 (d, s)
// pairs) is first copied into shared memory by the whole workgroup, so the
// subgroups read it there, not each from L2 (16 subgroups would read it 16
// times per workgroup: as many bytes as the weights). Measured slower on the
// H200 (the copy's wait and barrier cost more than the L2 reads), so the
// host stages only when asked (ops::MatmulTuning::block_stage).
// Arithmetic as matvec_idot.comp (common/idot.glsl).
// Bindings: 0 quants, 1 scales, 2 XQ, 3 DS (x in 8-bit blocks), 4 Y (fp32;
//           += with pc.accumulate but for EPI_SWIGLU), 5 OXQ, 6 ODS (the
//           block out), EPI_NORM: 7 OSS (sums of squares), 8 NW;
//           IN_SCALE: SS (in), 7 after EPI_SWIGLU's, else 5.
// CHAIN (common/chain.glsl): no barrier before this dispatch; each subgroup
// issues its first weight loads, then the workgroup waits for the dispatch
// before it; each workgroup counts itself when its writes are done. The
// flags are the binding after the last above.
// The host checks the shape: with an epilogue, pc.rows a multiple of the
// rows per workgroup.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_integer_dot_product : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#ifdef EPI_ATTN
#define VKQ_PC_MATMUL_ATTENTION
#else
#define VKQ_PC_MATMUL
#endif
#include "push_constants.h"
#include "weights.glsl"
#include "idot.glsl"
#include "quantize_block.glsl"
#if defined(EPI_NORM)
#define CHAIN_BINDING 9
#elif defined(EPI_SWIGLU) && defined(IN_SCALE)
#define CHAIN_BINDING 8
#elif defined(EPI_SWIGLU)
#define CHAIN_BINDING 7
#elif defined(IN_SCALE)
#define CHAIN_BINDING 6
#else
#define CHAIN_BINDING 5
#endif
#include "chain.glsl"

#if defined(EPI_NORM)
#define WG_ROWS 32u
#define EPILOGUE 1
#elif defined(EPI_SWIGLU)
#define WG_ROWS 64u
#define EPILOGUE 1
#else
#define WG_ROWS 32u
#endif

layout(constant_id = 0) const uint WG_SIZE = 512;
layout(constant_id = 1) const uint RPS = 2;     // rows per subgroup at a time
layout(constant_id = 2) const uint UNROLL = 4;  // granules of each row in flight per invocation
layout(constant_id = 3) const uint XS = 1;      // uvec4s of x staged in shared memory (K / 16), 1: none
layout(local_size_x_id = 0) in;

layout(std430, binding = 2) CHAIN_IO readonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 3) CHAIN_IO readonly buffer DS { vec2 ds[]; };
#ifdef EPI_ATTN
layout(std430, binding = 4) coherent buffer Out { float y[]; };  // read back by the group's last workgroup
#else
layout(std430, binding = 4) CHAIN_IO buffer Out { float y[]; };
#endif
#ifdef EPILOGUE
layout(std430, binding = 5) CHAIN_IO writeonly buffer OutXQ { uvec4 out_xq[]; };
layout(std430, binding = 6) CHAIN_IO writeonly buffer OutDS { vec2 out_ds[]; };
#endif
#ifdef EPI_NORM
layout(std430, binding = 7) CHAIN_IO writeonly buffer OutSS { float out_ss[]; };
layout(std430, binding = 8) readonly buffer NormW { float norm_w[]; };
#endif
#if defined(IN_SCALE) && defined(EPILOGUE)
layout(std430, binding = 7) CHAIN_IO readonly buffer InSS { float in_ss[]; };
#elif defined(IN_SCALE)
layout(std430, binding = 5) CHAIN_IO readonly buffer InSS { float in_ss[]; };
#endif

#ifdef EPI_ATTN
#include "qkv_attention.glsl"
#endif

shared float rowsum[WG_ROWS];
shared uvec4 xs[XS];
shared vec2 dss[(XS + 1u) / 2u];

#ifdef EPILOGUE
shared vec4 norm_v[8];    // the block's values to quantize: Y * NW (EPI_NORM), h (EPI_SWIGLU)
#endif
#ifdef EPI_NORM
shared float norm_sq[32]; // and Y^2, per row
#endif

uvec4 x_at(uint i) { return XS > 1u ? xs[i] : xq[i]; }
vec2 ds_at(uint b) { return XS > 1u ? dss[b] : ds[b]; }

// Chunk row of the workgroup's row rr (0 .. WG_ROWS-1).
uint chunk_row(uint blk, uint rr) {
#if defined(EPI_ATTN)
  return qkv_row(blk, rr);
#elif defined(EPI_SWIGLU)
  return rr < 32u ? blk * 32u + rr : pc.epi_half + blk * 32u + (rr - 32u);
#elif defined(EPI_NORM)
  return blk * 32u + rr;
#else
  return min(blk * 32u + rr, pc.rows - 1u);  // a last partial block repeats its last row (not written)
#endif
}

// The weight granules of rows ROWS[] at granule G0 + u * sgs, u < UNROLL,
// into W and DM (a macro: arrays sized by specialization constants as
// function parameters do not pass spirv-val).
#if defined(WTYPE_Q8_0)
#define GRANULE_BLOCK(gi) ((gi) >> 1)  // two granules per block
#else
#define GRANULE_BLOCK(gi) (gi)
#endif
#define LOAD_WEIGHTS(G0, ROWS, W, DM)                                                        \
  for (uint u_ = 0; u_ < UNROLL; ++u_) {                                                     \
    const uint gi_ = min((G0) + u_ * sgs, gpr - 1); /* past the row end: reloaded, skipped */ \
    for (uint r_ = 0; r_ < RPS; ++r_) {                                                      \
      W[u_ * RPS + r_] = wq[ROWS[r_] * gpr + gi_];                                           \
      DM[u_ * RPS + r_] = block_scale(ROWS[r_] * (pc.Kp / 32u) + GRANULE_BLOCK(gi_));        \
    }                                                                                        \
  }

void main() {
  const uint blk = gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x;  // the workgroup's 32-block
  if (blk * WG_ROWS >= pc.rows) {  // the whole workgroup
    if (gl_LocalInvocationIndex == 0u) chain_signal();
    return;
  }
  const uint gpr = pc.Kp / WG_ELEMS, lane = gl_SubgroupInvocationID, sgs = gl_SubgroupSize;
  const uint rb0 = gl_SubgroupID * RPS;
#ifdef CHAIN
  // This subgroup's first granules of its first rows, loaded before the
  // wait (the weights do not depend on the dispatch before).
  uvec4 w0[UNROLL * RPS];
  vec2 dm0[UNROLL * RPS];
  if (rb0 < WG_ROWS) {
    uint rows0[RPS];
    for (uint r = 0; r < RPS; ++r) rows0[r] = chunk_row(blk, min(rb0 + r, WG_ROWS - 1u));
    LOAD_WEIGHTS(lane, rows0, w0, dm0);
  }
#endif
#ifdef EPI_NORM
  // The block's norm weights, one per invocation of the first 32, issued
  // now and first used after the weights: the tail then waits on no memory.
  const uint t = gl_LocalInvocationIndex, k0 = pc.row0 + blk * 32u;
  float y_old = 0.0, g = 0.0;
  if (t < 32u) g = norm_w[k0 + t];
#endif
  chain_wait();
#ifdef EPI_NORM
  // And the residual rows (written by the dispatches before).
  if (t < 32u) y_old = pc.accumulate != 0u ? y[k0 + t] : 0.0;
#endif
  if (XS > 1u) {
    for (uint i = gl_LocalInvocationIndex; i < pc.K / 16u; i += WG_SIZE) xs[i] = xq[i];
    for (uint i = gl_LocalInvocationIndex; i < pc.K / 32u; i += WG_SIZE) dss[i] = ds[i];
    barrier();
  }
#ifdef IN_SCALE
  // Issued now, added after the weights: no wait for them here.
  const uint bpr = pc.K / 32u;
  float ssv[8];
  for (uint u = 0; u < 8u; ++u) ssv[u] = lane + u * sgs < bpr ? in_ss[lane + u * sgs] : 0.0;
#endif

  for (uint rb = rb0; rb < WG_ROWS; rb += gl_NumSubgroups * RPS) {
    float acc[RPS];
    uint rows[RPS];
    for (uint r = 0; r < RPS; ++r) {
      acc[r] = 0.0;
      rows[r] = chunk_row(blk, min(rb + r, WG_ROWS - 1u));
    }
    for (uint g0 = lane; g0 < gpr; g0 += sgs * UNROLL) {
      uvec4 w[UNROLL * RPS];
      vec2 dm[UNROLL * RPS];
      uvec4 xa[UNROLL], xb[UNROLL];
      vec2 xds[UNROLL];
#ifdef CHAIN
      const bool first = rb == rb0 && g0 == lane;  // its weights are in w0, dm0
#endif
      for (uint u = 0; u < UNROLL; ++u) {
        const uint gi = min(g0 + u * sgs, gpr - 1);  // past the row end: reloads the last granule, skipped below
        const uint b = GRANULE_BLOCK(gi);
#if defined(WTYPE_Q8_0)
        xa[u] = x_at(gi);
        xb[u] = uvec4(0);
#else
        xa[u] = x_at(2u * b);
        xb[u] = x_at(2u * b + 1u);
#endif
        xds[u] = ds_at(b);
        for (uint r = 0; r < RPS; ++r) {
#ifdef CHAIN
          if (first) {
            w[u * RPS + r] = w0[u * RPS + r];
            dm[u * RPS + r] = dm0[u * RPS + r];
            continue;
          }
#endif
          w[u * RPS + r] = wq[rows[r] * gpr + gi];
          dm[u * RPS + r] = block_scale(rows[r] * (pc.Kp / 32u) + b);
        }
      }
      for (uint u = 0; u < UNROLL; ++u) {
        if (g0 + u * sgs >= gpr) break;
        for (uint r = 0; r < RPS; ++r) acc[r] += idot_granule(w[u * RPS + r], dm[u * RPS + r], xa[u], xb[u], xds[u]);
      }
    }
    for (uint r = 0; r < RPS; ++r) {
      const float s = subgroupAdd(acc[r]);
      if (subgroupElect() && rb + r < WG_ROWS) rowsum[rb + r] = s;
    }
  }
#ifdef IN_SCALE
  float in_sum = 0.0;
  for (uint u = 0; u < 8u; ++u) in_sum += ssv[u];
  for (uint i = lane + 8u * sgs; i < bpr; i += sgs) in_sum += in_ss[i];  // rows past 256 * the subgroup size
  // Every subgroup adds the same values in the same order; invocation 0 uses it.
  const float in_scale = inversesqrt(subgroupAdd(in_sum) / float(pc.K) + pc.eps);
#else
  const float in_scale = 1.0;
#endif
  barrier();
#ifndef EPILOGUE
  // An invocation per row.
  const uint t = gl_LocalInvocationIndex, row = blk * 32u + t;
  if (t < 32u && row < pc.rows) {
    const float a = rowsum[t] * in_scale;
    const uint yr = pc.row0 + chunk_row(blk, t);  // row, but for EPI_ATTN's grouping
    y[yr] = pc.accumulate != 0u ? y[yr] + a : a;
  }
#ifdef EPI_ATTN
  qkv_attention(blk);
#endif
#ifdef CHAIN
  CHAIN_PUBLISH();
  if (t == 0u) chain_signal();
#endif
  return;
#else

#ifdef EPI_NORM
  // A row per invocation: Y written, Y * NW and Y^2 to shared memory; then
  // one invocation sums and quantizes the block.
  if (t < 32u) {
    const float xn = y_old + rowsum[t];
    y[k0 + t] = xn;
    norm_v[t / 4u][t % 4u] = xn * g;
    norm_sq[t] = xn * xn;
  }
#ifdef CHAIN
  CHAIN_PUBLISH();  // y, for chain_signal() below
#else
  barrier();
#endif
  if (t != 0u) return;
  vec4 v[8];
  for (uint i = 0; i < 8u; ++i) v[i] = norm_v[i];
  float ss = 0.0;
  for (uint r = 0; r < 32u; ++r) ss += norm_sq[r];
  const uint ob = k0 / 32u;
  out_ss[ob] = ss;
#else
  // A row pair per invocation of the first 32: gate row r and up row 32 + r
  // written, h = silu(gate) * up to shared memory (in parallel: one
  // invocation doing all 32 was a serial tail after every workgroup's
  // rows); then one invocation quantizes the block.
  const uint t = gl_LocalInvocationIndex;
  if (t < 32u) {
    const float gt = rowsum[t] * in_scale, up = rowsum[32u + t] * in_scale;
    y[pc.row0 + chunk_row(blk, t)] = gt;
    y[pc.row0 + chunk_row(blk, 32u + t)] = up;
    norm_v[t / 4u][t % 4u] = gt / (1.0 + exp(-gt)) * up;  // as swiglu.comp
  }
#ifdef CHAIN
  CHAIN_PUBLISH();  // y, for chain_signal() below
#else
  barrier();
#endif
  if (t != 0u) return;
  vec4 v[8];
  for (uint i = 0; i < 8u; ++i) v[i] = norm_v[i];
  const uint ob = blk;
#endif
  uvec4 lo, hi;
  vec2 dsv;
  quantize_block32(v, lo, hi, dsv);
  out_xq[2u * ob] = lo;
  out_xq[2u * ob + 1u] = hi;
  out_ds[ob] = dsv;
  chain_signal();
#endif
}
