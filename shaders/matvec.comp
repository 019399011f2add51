#version 450
// Decode GEMV: Y[j][row0 + r] = sum_k W[r][k] * X[j][k] for n <= 8 columns.
// Memory-bound: each weight byte is read once, as coalesced 16-byte granules
// (consecutive invocations read consecutive granules of the same row).
//
// Workgroup: WG_SIZE invocations share ROWS rows; each invocation walks the
// granules gi = tid, tid + WG_SIZE, ... of every row, keeping ROWS * NCOLS
// fp32 partial sums, and reuses each activation load for all ROWS rows.
// Reduction: USE_SUBGROUP = subgroupAdd, then one partial per subgroup in
// shared memory; otherwise a shared-memory tree (runs everywhere).
//
// Bindings: 0 quants, [1 scales], then X (fp32 vec4, or fp16 with ACT_F16),
// then Y (fp32). Activation column j starts at element j * x_stride.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_MATMUL
#include "push_constants.h"
#include "weights.glsl"
#include "activations.glsl"
#ifdef USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(constant_id = 1) const uint ROWS = 2;      // rows per workgroup
layout(constant_id = 2) const uint NCOLS = 1;     // activation columns compiled for (1, 2, 4 or 8; pc.n <= NCOLS)
layout(constant_id = 3) const uint NSUB_MAX = 64; // most subgroups per workgroup (WG_SIZE / min subgroup size)
layout(local_size_x_id = 0) in;


#ifdef USE_SUBGROUP
shared float red[NSUB_MAX * ROWS * NCOLS];
#else
shared float red[WG_SIZE];
#endif

void main() {
  const uint tid = gl_LocalInvocationID.x;
  const uint r0 = (gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x) * ROWS;
  if (r0 >= pc.rows) return;  // uniform per workgroup
  const uint gpr = pc.Kp / WG_ELEMS;  // granules per row
  const bool tail = pc.K != pc.Kp;    // plain types with K % 32 != 0: guard X reads

  float acc[ROWS * NCOLS];
  for (uint i = 0; i < ROWS * NCOLS; ++i) acc[i] = 0.0;

  for (uint gi = tid; gi < gpr; gi += WG_SIZE) {
    const uint k0 = gi * WG_ELEMS;  // first weight of the granule in its row
    // Activations for this granule, per column; with their sum for block types.
    vec4 xs[NCOLS * WG_VEC4];
#ifdef WQUANT
    float xsum[NCOLS];
#endif
    for (uint j = 0; j < NCOLS; ++j) {
      const uint xb = (j * pc.x_stride + k0) >> 2;
#ifdef WQUANT
      vec4 s4 = vec4(0.0);
#endif
      for (uint v = 0; v < WG_VEC4; ++v) {
        vec4 x4 = vec4(0.0);
        if (j < pc.n && (!tail || k0 + 4 * v < pc.K)) x4 = load_x4(xb + v);
        xs[j * WG_VEC4 + v] = x4;
#ifdef WQUANT
        s4 += x4;
#endif
      }
#ifdef WQUANT
      xsum[j] = dot(s4, vec4(1.0));
#endif
    }
    for (uint r = 0; r < ROWS; ++r) {
      const uint row = min(r0 + r, pc.rows - 1);  // clamp: rows past the end are computed, not stored
      vec4 q[WG_VEC4];
      decode_granule(wq[row * gpr + gi], q);
#ifdef WQUANT
      const vec2 dm = block_scale((row * gpr + gi) * WG_ELEMS / 32u);
#endif
      for (uint j = 0; j < NCOLS; ++j) {
        float s = 0.0;
        for (uint v = 0; v < WG_VEC4; ++v) s += dot(q[v], xs[j * WG_VEC4 + v]);
#ifdef WQUANT
        acc[r * NCOLS + j] += dm.x * s + dm.y * xsum[j];
#else
        acc[r * NCOLS + j] += s;
#endif
      }
    }
  }

#ifdef USE_SUBGROUP
  for (uint i = 0; i < ROWS * NCOLS; ++i) acc[i] = subgroupAdd(acc[i]);
  if (gl_NumSubgroups > 1) {
    if (subgroupElect())
      for (uint i = 0; i < ROWS * NCOLS; ++i) red[gl_SubgroupID * ROWS * NCOLS + i] = acc[i];
    barrier();
    if (gl_SubgroupID != 0) return;
    for (uint i = 0; i < ROWS * NCOLS; ++i) {
      float v = 0.0;
      for (uint s = gl_SubgroupInvocationID; s < gl_NumSubgroups; s += gl_SubgroupSize) v += red[s * ROWS * NCOLS + i];
      acc[i] = subgroupAdd(v);
    }
  }
  if (subgroupElect()) {
    for (uint r = 0; r < ROWS; ++r) {
      if (r0 + r >= pc.rows) break;
      for (uint j = 0; j < pc.n && j < NCOLS; ++j) store_y(j * pc.y_stride + pc.row0 + r0 + r, acc[r * NCOLS + j]);
    }
  }
#else
  for (uint i = 0; i < ROWS * NCOLS; ++i) {
    red[tid] = acc[i];
    barrier();
    for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
      if (tid < s) red[tid] += red[tid + s];
      barrier();
    }
    if (tid == 0) acc[i] = red[0];
    barrier();
  }
  if (tid == 0) {
    for (uint r = 0; r < ROWS; ++r) {
      if (r0 + r >= pc.rows) break;
      for (uint j = 0; j < pc.n && j < NCOLS; ++j) store_y(j * pc.y_stride + pc.row0 + r0 + r, acc[r * NCOLS + j]);
    }
  }
#endif
}
