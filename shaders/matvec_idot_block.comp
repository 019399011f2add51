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
//   EPI_FFN    (with EPI_SWIGLU and IN_SCALE: the whole FFN in one dispatch)
//              h of block b stays in the workgroup (gate and up are not
//              written), which adds its share of down, Wdown[:, block b] h_b,
//              for every row into ACC: 64-bit fixed point (2^-32 units,
//              integer atomics, so the sum is the same in any order); the
//              last workgroup to count itself in ACC then adds ACC to the
//              residual Y (binding 4: pc.K rows; down's rows are pc.K long,
//              its K pc.epi_half), writes the next RMSNorm's input from Y as
//              EPI_NORM does (weight NW, 8-bit blocks to OXQ / ODS, sums of
//              squares to OSS) and zeroes ACC. A share that is not finite or
//              not below 2^21 sets ACC's flag: Y's rows become NaN.
//              Bindings: 5 OXQ, 6 ODS, 7 SS (in), 8 OSS, 9 NW, 10 down's
//              quants, 11 its scales, 12 ACC (count, flag, two unused
//              words, then pc.K int64; all zero between dispatches).
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
#ifdef EPI_FFN
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_shader_atomic_int64 : require
#extension GL_KHR_memory_scope_semantics : require
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
#elif defined(EPI_FFN)
// 32-blocks of h per workgroup: fewer workgroups, fewer atomics (each adds
// every row of down once).
layout(constant_id = 4) const uint FFN_NB = 1;
#define SW_BLOCKS FFN_NB
#define WG_ROWS (64u * FFN_NB)
#define EPILOGUE 1
#elif defined(EPI_SWIGLU)
#define SW_BLOCKS 1u
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
#ifdef EPI_FFN
layout(std430, binding = 8) writeonly buffer OutSS { float out_ss[]; };
layout(std430, binding = 9) readonly buffer NormW { float norm_w[]; };
layout(std430, binding = 10) readonly buffer DownQuants { uvec4 dq[]; };
layout(std430, binding = 11) readonly buffer DownScales { uint dsc[]; };
layout(std430, binding = 12) coherent buffer Acc {
  uint ffn_count, ffn_bad, ffn_unused0, ffn_unused1;
  int64_t ffn_acc[];
};
shared bool ffn_last, ffn_nan;
#define FFN_TAIL_ROWS 1024u
shared float ffn_v[FFN_TAIL_ROWS], ffn_sq[FFN_TAIL_ROWS];  // the last workgroup's residual rows: x * w, x^2
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

#ifdef EPI_FFN
shared vec4 norm_v[8u * FFN_NB];  // the workgroup's blocks of h
#elif defined(EPILOGUE)
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
  const uint n = 32u * SW_BLOCKS;  // gate rows of the workgroup, then as many up rows
  return rr < n ? blk * n + rr : pc.epi_half + blk * n + (rr - n);
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

#ifdef EPILOGUE
// Block ob of the epilogue's output: v quantized to the 8-bit form.
void store_block(uint ob, const vec4 v[8]) {
  uvec4 lo, hi;
  vec2 dsv;
  quantize_block32(v, lo, hi, dsv);
  out_xq[2u * ob] = lo;
  out_xq[2u * ob + 1u] = hi;
  out_ds[ob] = dsv;
}
#endif

#ifdef EPI_FFN
// Down's share of the workgroup's FFN_NB blocks of h from block b on (in
// norm_v; every invocation, uniform control flow): Wdown[r, those blocks]
// . h for every row r into ACC, then the count and, in the last
// workgroup, the residual and the next norm's input.
#if defined(WTYPE_Q8_0)
#define DOWN_GRANULES 2u
#else
#define DOWN_GRANULES 1u
#endif
#define DOWN_ROWS 4u  // rows per invocation with their loads in flight at once
layout(constant_id = 5) const uint FFN_EARLY = 0;  // 1: the first rows' loads issued before the row sums meet
// An invocation's down weights for rows r0, r0 + WG_SIZE, ... (DOWN_ROWS of
// them; past the last row: the last, reloaded and skipped) at blocks b ..
// b + FFN_NB - 1, which are adjacent: 16 x FFN_NB bytes (Q4_0, Q4_1) or
// twice that (Q8_0) in a row.
uvec4 ffn_w[DOWN_ROWS * FFN_NB * DOWN_GRANULES];
uint ffn_sw[DOWN_ROWS * FFN_NB];
void ffn_load(uint b, uint r0) {
  const uint M = pc.K, bpr = pc.epi_half / 32u;
  for (uint i = 0; i < DOWN_ROWS; ++i) {
    const uint r = min(r0 + i * WG_SIZE, M - 1u);
    for (uint g = 0; g < FFN_NB * DOWN_GRANULES; ++g)
      ffn_w[i * FFN_NB * DOWN_GRANULES + g] = dq[(r * bpr + b) * DOWN_GRANULES + g];
    for (uint j = 0; j < FFN_NB; ++j) ffn_sw[i * FFN_NB + j] = dsc[scale_word(r * bpr + b + j)];
  }
}
void ffn_down(uint blk) {
  const uint t = gl_LocalInvocationIndex, M = pc.K, bpr = pc.epi_half / 32u, b = blk * FFN_NB;
  // h in the GEMV's 8-bit form: every invocation rounds the same values
  // the same way (as swiglu_q8 would for the unfused down GEMV).
  uvec4 hlo[FFN_NB], hhi[FFN_NB];
  vec2 hds[FFN_NB];
  for (uint j = 0; j < FFN_NB; ++j) {
    vec4 v[8];
    for (uint i = 0; i < 8u; ++i) v[i] = norm_v[8u * j + i];
    quantize_block32(v, hlo[j], hhi[j], hds[j]);
  }
  bool bad = false;
  for (uint r0 = t; r0 < M; r0 += WG_SIZE * DOWN_ROWS) {
    if (FFN_EARLY == 0u || r0 != t) ffn_load(b, r0);  // else main() issued them
    for (uint i = 0; i < DOWN_ROWS; ++i) {
      const uint r = r0 + i * WG_SIZE;
      if (r >= M) break;
      float a = 0.0;
      for (uint j = 0; j < FFN_NB; ++j) {
        const vec2 d = decode_scale(ffn_sw[i * FFN_NB + j], r * bpr + b + j);
        const uint wi = (i * FFN_NB + j) * DOWN_GRANULES;
#if defined(WTYPE_Q8_0)
        a += idot_granule(ffn_w[wi], d, hlo[j], uvec4(0), hds[j]) +
             idot_granule(ffn_w[wi + 1u], d, hhi[j], uvec4(0), hds[j]);
#else
        a += idot_granule(ffn_w[wi], d, hlo[j], hhi[j], hds[j]);
#endif
      }
      if (abs(a) < 2097152.0)  // false for NaN too; 2^21 x 1024 shares stay below 2^31
        atomicAdd(ffn_acc[r], int64_t(round(a * 4294967296.0)));
      else
        bad = true;
    }
  }
  if (bad) atomicOr(ffn_bad, 1u);
  // Release the adds, count; the last acquires every other workgroup's.
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (t == 0u) {
    ffn_last = atomicAdd(ffn_count, 1u, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease) ==
               pc.rows / WG_ROWS - 1u;
    ffn_nan = ffn_last && ffn_bad != 0u;
  }
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (!ffn_last) return;
  // The residual and the next RMSNorm's input from it, FFN_TAIL_ROWS rows
  // at a time: a row per invocation (ACC back to zero), then a 32-block per
  // invocation from shared memory, as EPI_NORM's tail.
  for (uint c0 = 0; c0 < M; c0 += FFN_TAIL_ROWS) {
    const uint n = min(FFN_TAIL_ROWS, M - c0);
    for (uint i = t; i < n; i += WG_SIZE) {
      const uint r = c0 + i;
      const float add = ffn_nan ? uintBitsToFloat(0x7fc00000u) : float(ffn_acc[r]) * (1.0 / 4294967296.0);
      ffn_acc[r] = int64_t(0);
      const float xn = y[r] + add;
      y[r] = xn;
      ffn_v[i] = xn * norm_w[r];
      ffn_sq[i] = xn * xn;
    }
    barrier();
    for (uint ob = t; ob < n / 32u; ob += WG_SIZE) {
      vec4 nv[8];
      float ss = 0.0;
      for (uint i = 0; i < 8u; ++i)
        for (uint c = 0; c < 4u; ++c) {
          nv[i][c] = ffn_v[32u * ob + 4u * i + c];
          ss += ffn_sq[32u * ob + 4u * i + c];
        }
      store_block(c0 / 32u + ob, nv);
      out_ss[c0 / 32u + ob] = ss;
    }
    barrier();
  }
  if (t == 0u) {
    ffn_count = 0u;
    ffn_bad = 0u;
  }
}
#endif

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
#ifdef EPI_FFN
  if (FFN_EARLY != 0u) ffn_load(blk * FFN_NB, gl_LocalInvocationIndex);  // down's first rows, while the row sums meet
#endif
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
  if (t < 32u * SW_BLOCKS) {
    const float gt = rowsum[t] * in_scale, up = rowsum[32u * SW_BLOCKS + t] * in_scale;
#ifndef EPI_FFN  // there Y is the residual
    y[pc.row0 + chunk_row(blk, t)] = gt;
    y[pc.row0 + chunk_row(blk, 32u * SW_BLOCKS + t)] = up;
#endif
    norm_v[t / 4u][t % 4u] = gt / (1.0 + exp(-gt)) * up;  // as swiglu.comp
  }
#ifdef CHAIN
  CHAIN_PUBLISH();  // y, for chain_signal() below
#else
  barrier();
#endif
#ifdef EPI_FFN
  ffn_down(blk);
  return;
#endif
  if (t != 0u) return;
  vec4 v[8];
  for (uint i = 0; i < 8u; ++i) v[i] = norm_v[i];
  const uint ob = blk;
#endif
  store_block(ob, v);
  chain_signal();
#endif
}
