#version 450
// Activations -> 8-bit blocks for the integer-dot GEMV
// (common/quantize_block.glsl). One invocation per block.
// Bindings: 0 X (fp32 vec4, or fp16 with ACT_F16), column j at j * x_stride;
//           1 Q: column j, block b at uint (j * K + 32 b) / 4, 8 words per block;
//           2 DS: vec2 (d, s) per block at j * K / 32 + b.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_QUANTIZE_ACT
#include "push_constants.h"
#include "quantize_block.glsl"

layout(local_size_x_id = 0) in;

#ifdef ACT_F16
layout(std430, binding = 0) readonly buffer Act { uvec2 xv[]; };
vec4 load_x4(uint i) { const uvec2 u = xv[i]; return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y)); }
#else
layout(std430, binding = 0) readonly buffer Act { vec4 xv[]; };
vec4 load_x4(uint i) { return xv[i]; }
#endif
layout(std430, binding = 1) writeonly buffer Q { uvec4 xq[]; };
layout(std430, binding = 2) writeonly buffer DS { vec2 ds[]; };

void main() {
  const uint blocks = pc.K / 32;
  const uint id = (gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (id >= blocks * pc.n) return;
  const uint j = id / blocks, b = id % blocks;
  const uint base = (j * pc.x_stride + b * 32) / 4;
  vec4 v[8];
  for (uint i = 0; i < 8; ++i) v[i] = load_x4(base + i);
  uvec4 lo, hi;
  vec2 dsv;
  quantize_block32(v, lo, hi, dsv);
  const uint o = (j * pc.K + b * 32) / 16;  // uvec4 index
  xq[o] = lo;
  xq[o + 1] = hi;
  ds[j * blocks + b] = dsv;
}
