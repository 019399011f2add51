#version 450
// Decode GEMV with integer dot products (dotPacked4x8EXT) for Q4_0, Q4_1 and
// Q8_0 weights against activations quantized to 8 bits per 32-block by
// quantize_q8_1.comp. Chosen where the device reports 4x8 packed dot
// products accelerated: it turns 32 nibble-to-float conversions and 32 FMAs
// per block into 8 bit-ops and 8 dot instructions.
//
// Same structure as matvec.comp (ROWS rows per workgroup, granules of 16
// bytes, fp32 partial sums). Per block: sum_i q_w,i q_x,i in int32 (exact),
// then acc += d_w * d_x * isum + m_w * s_x.
// Bindings: 0 quants, 1 scales, 2 XQ (uvec4: 32 int8 per block = 2 uvec4),
//           3 DS (vec2 per block), 4 Y.
// (The decode GEMVs with an epilogue or a deferred norm's input are
// matvec_idot_block.comp.)
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_integer_dot_product : require
#define VKQ_PC_MATMUL
#include "push_constants.h"
#include "weights.glsl"
#include "idot.glsl"
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(constant_id = 1) const uint ROWS = 2;
layout(constant_id = 2) const uint NCOLS = 1;
layout(constant_id = 3) const uint NSUB_MAX = 64;
layout(constant_id = 4) const uint UNROLL = 2;    // granules in flight per invocation
layout(local_size_x_id = 0) in;

layout(std430, binding = 2) readonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 3) readonly buffer DS { vec2 ds[]; };
layout(std430, binding = 4) buffer Out { float y[]; };  // += with pc.accumulate

shared float red[NSUB_MAX * ROWS * NCOLS];

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint r0 = (gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x) * ROWS;
  if (r0 >= pc.rows) return;
  const uint gpr = pc.Kp / WG_ELEMS;  // granules per row
  const uint bpr = pc.K / 32;         // blocks per row (and per activation column)

  float acc[ROWS * NCOLS];
  for (uint i = 0; i < ROWS * NCOLS; ++i) acc[i] = 0.0;

  // UNROLL granules per step: all their loads are issued before any is used,
  // so each invocation keeps UNROLL * ROWS 16-byte weight loads in flight.
  for (uint g0 = tid; g0 < gpr; g0 += WG_SIZE * UNROLL) {
    uvec4 w[UNROLL * ROWS];
    vec2 dm[UNROLL * ROWS];
    uvec4 xa[UNROLL * NCOLS], xb[UNROLL * NCOLS];
    vec2 xds[UNROLL * NCOLS];
    for (uint u = 0; u < UNROLL; ++u) {
      const uint gi = min(g0 + u * WG_SIZE, gpr - 1);  // past the row end: reloads the last granule, skipped below
#if defined(WTYPE_Q8_0)
      const uint b = gi >> 1, half_ = gi & 1u;  // two granules per block
#else
      const uint b = gi;
#endif
      for (uint r = 0; r < ROWS; ++r) {
        const uint row = min(r0 + r, pc.rows - 1);
        w[u * ROWS + r] = wq[row * gpr + gi];
        dm[u * ROWS + r] = block_scale(row * (pc.Kp / 32) + b);
      }
      for (uint j = 0; j < NCOLS; ++j) {
        const uint jj = min(j, pc.n - 1);  // columns past n repeat the last (not stored)
        const uint o = (jj * pc.K + b * 32) / 16;
#if defined(WTYPE_Q8_0)
        xa[u * NCOLS + j] = xq[o + half_];
        xb[u * NCOLS + j] = uvec4(0);
#else
        xa[u * NCOLS + j] = xq[o];
        xb[u * NCOLS + j] = xq[o + 1];
#endif
        xds[u * NCOLS + j] = ds[jj * bpr + b];
      }
    }
    for (uint u = 0; u < UNROLL; ++u) {
      if (g0 + u * WG_SIZE >= gpr) break;
      for (uint r = 0; r < ROWS; ++r) {
        const uvec4 wv = w[u * ROWS + r];
        const vec2 d = dm[u * ROWS + r];
        for (uint j = 0; j < NCOLS; ++j) {
          const uint xi = u * NCOLS + j;
          acc[r * NCOLS + j] += idot_granule(wv, d, xa[xi], xb[xi], xds[xi]);
        }
      }
    }
  }

  for (uint i = 0; i < ROWS * NCOLS; ++i) acc[i] = subgroupAdd(acc[i]);
  if (gl_NumSubgroups > 1) {
    if (subgroupElect())
      for (uint i = 0; i < ROWS * NCOLS; ++i) red[gl_SubgroupID * ROWS * NCOLS + i] = acc[i];
    barrier();
    if (gl_SubgroupID != 0) return;
    if (gl_SubgroupID == 0) {
      for (uint i = 0; i < ROWS * NCOLS; ++i) {
        float v = 0.0;
        for (uint s = gl_SubgroupInvocationID; s < gl_NumSubgroups; s += gl_SubgroupSize) v += red[s * ROWS * NCOLS + i];
        acc[i] = subgroupAdd(v);
      }
    }
  }
  if (gl_SubgroupID == 0 && subgroupElect()) {
    for (uint r = 0; r < ROWS; ++r) {
      if (r0 + r >= pc.rows) break;
      for (uint j = 0; j < pc.n && j < NCOLS; ++j) {
        const uint i = j * pc.y_stride + pc.row0 + r0 + r;
        y[i] = pc.accumulate != 0u ? y[i] + acc[r * NCOLS + j] : acc[r * NCOLS + j];
      }
    }
  }
}
