#version 450
// Decode's residual GEMV with the RMSNorm after it as its epilogue, in the
// deferred form (attn_output and ffn_down, one token): Y += W x, then for
// the next norm (weight NW) Y * NW in 8-bit blocks, unscaled, and the sum
// of Y^2 per block (as rmsnorm.comp DEFERRED writes them; the GEMVs after
// it apply 1/rms: matvec_idot.comp IN_SCALE).
//
// A workgroup owns one 32-row block of Y, so no workgroup waits for another.
// Its subgroups take RPS rows each at a time, a lane UNROLL granules of
// each (all loads issued before any is used), and reduce each row within
// the subgroup; the row sums meet in shared memory, where one invocation
// adds them into Y and writes the block. Any subgroup size works: rows go
// to subgroups by gl_SubgroupID, granules to lanes by gl_SubgroupSize.
// Integer-dot arithmetic as matvec_idot.comp (common/idot.glsl).
// Bindings: 0 quants, 1 scales, 2 XQ, 3 DS (the input x in 8-bit blocks),
//           4 Y (fp32, += with pc.accumulate), 5 NXQ, 6 NDS, 7 NSS, 8 NW.
// pc.rows (this chunk's rows) is a multiple of 32 (the host checks).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_integer_dot_product : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#define VKQ_PC_MATMUL
#include "push_constants.h"
#include "weights.glsl"
#include "idot.glsl"
#include "quantize_block.glsl"

layout(constant_id = 0) const uint WG_SIZE = 512;
layout(constant_id = 1) const uint RPS = 2;     // rows per subgroup at a time
layout(constant_id = 2) const uint UNROLL = 4;  // granules of each row in flight per invocation
layout(local_size_x_id = 0) in;

layout(std430, binding = 2) readonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 3) readonly buffer DS { vec2 ds[]; };
layout(std430, binding = 4) buffer Out { float y[]; };
layout(std430, binding = 5) writeonly buffer NormXQ { uvec4 norm_xq[]; };
layout(std430, binding = 6) writeonly buffer NormDS { vec2 norm_ds[]; };
layout(std430, binding = 7) writeonly buffer NormSS { float norm_ss[]; };
layout(std430, binding = 8) readonly buffer NormW { float norm_w[]; };

shared float rowsum[32];

void main() {
  const uint r0 = (gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x) * 32u;
  if (r0 >= pc.rows) return;  // the whole workgroup
  const uint gpr = pc.Kp / WG_ELEMS, lane = gl_SubgroupInvocationID, sgs = gl_SubgroupSize;

  for (uint rb = gl_SubgroupID * RPS; rb < 32u; rb += gl_NumSubgroups * RPS) {
    float acc[RPS];
    for (uint r = 0; r < RPS; ++r) acc[r] = 0.0;
    for (uint g0 = lane; g0 < gpr; g0 += sgs * UNROLL) {
      uvec4 w[UNROLL * RPS];
      vec2 dm[UNROLL * RPS];
      uvec4 xa[UNROLL], xb[UNROLL];
      vec2 xds[UNROLL];
      for (uint u = 0; u < UNROLL; ++u) {
        const uint gi = min(g0 + u * sgs, gpr - 1);  // past the row end: reloads the last granule, skipped below
#if defined(WTYPE_Q8_0)
        const uint b = gi >> 1;  // two granules per block
        xa[u] = xq[gi];
        xb[u] = uvec4(0);
#else
        const uint b = gi;
        xa[u] = xq[2u * b];
        xb[u] = xq[2u * b + 1u];
#endif
        xds[u] = ds[b];
        for (uint r = 0; r < RPS; ++r) {
          const uint row = r0 + min(rb + r, 31u);
          w[u * RPS + r] = wq[row * gpr + gi];
          dm[u * RPS + r] = block_scale(row * (pc.Kp / 32u) + b);
        }
      }
      for (uint u = 0; u < UNROLL; ++u) {
        if (g0 + u * sgs >= gpr) break;
        for (uint r = 0; r < RPS; ++r) acc[r] += idot_granule(w[u * RPS + r], dm[u * RPS + r], xa[u], xb[u], xds[u]);
      }
    }
    for (uint r = 0; r < RPS; ++r) {
      const float s = subgroupAdd(acc[r]);
      if (subgroupElect() && rb + r < 32u) rowsum[rb + r] = s;
    }
  }
  barrier();

  // One invocation: the block's residual rows and norm weights are loaded
  // together (all before any store), then added, written and quantized.
  if (gl_LocalInvocationIndex != 0u) return;
  const uint k0 = pc.row0 + r0;
  float yo[32], g[32];
  for (uint r = 0; r < 32u; ++r) {
    yo[r] = pc.accumulate != 0u ? y[k0 + r] : 0.0;
    g[r] = norm_w[k0 + r];
  }
  vec4 v[8];
  float ss = 0.0;
  for (uint r = 0; r < 32u; ++r) {
    const float xn = yo[r] + rowsum[r];
    y[k0 + r] = xn;
    ss += xn * xn;
    v[r / 4u][r % 4u] = xn * g[r];
  }
  uvec4 lo, hi;
  vec2 dsv;
  quantize_block32(v, lo, hi, dsv);
  const uint b = k0 / 32u;
  norm_xq[2u * b] = lo;
  norm_xq[2u * b + 1u] = hi;
  norm_ds[b] = dsv;
  norm_ss[b] = ss;
}
