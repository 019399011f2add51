#version 450
// Row sums: out[r] = sum over c < cols of in[r * cols + c], fp32 accumulation.
// Bindings: 0 in[rows * cols], 1 out[rows] (fp32, std430).
// One workgroup per row; rows over a 2-D grid (r = x + y * rows_per_grid_x)
// so more than maxComputeWorkGroupCount[0] rows work.
//
// USE_SUBGROUP: subgroupAdd inside each subgroup, partials through shared
// memory, then one subgroup folds them. Assumes nothing about the subgroup
// size (lavapipe runs it at 4, 8 and 16; NVIDIA 32; AMD 64).
// Otherwise: shared-memory tree, which runs on every device (WG_SIZE must be
// a power of two; the host checks).
#define VKQ_PC_REDUCE_ROWS
#extension GL_GOOGLE_include_directive : require
#include "push_constants.h"
#ifdef USE_SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer In { float src[]; };
layout(std430, binding = 1) writeonly buffer Out { float dst[]; };

shared float partial[WG_SIZE];

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * pc.rows_per_grid_x;
  if (row >= pc.rows) return;  // uniform per workgroup
  const uint base = row * pc.cols;
  float acc = 0.0;
  for (uint c = gl_LocalInvocationID.x; c < pc.cols; c += WG_SIZE) {
    acc += src[base + c];
  }
#ifdef USE_SUBGROUP
  acc = subgroupAdd(acc);
  if (subgroupElect()) partial[gl_SubgroupID] = acc;
  barrier();
  if (gl_SubgroupID == 0) {
    float v = 0.0;
    for (uint i = gl_SubgroupInvocationID; i < gl_NumSubgroups; i += gl_SubgroupSize) v += partial[i];
    v = subgroupAdd(v);
    if (subgroupElect()) dst[row] = v;
  }
#else
  partial[gl_LocalInvocationID.x] = acc;
  barrier();
  for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
    if (gl_LocalInvocationID.x < s) partial[gl_LocalInvocationID.x] += partial[gl_LocalInvocationID.x + s];
    barrier();
  }
  if (gl_LocalInvocationID.x == 0) dst[row] = partial[0];
#endif
}
