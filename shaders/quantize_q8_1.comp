#version 450
// Activations -> 8-bit blocks for the integer-dot GEMV (llama.cpp's Q8_1
// idea): each block of 32 values gets d = amax / 127, q = round(x / d), and
// s = d * sum(q), so a weight block (d_w, m_w) dots as
//   d_w * d * sum(q_w * q) + m_w * s.
// One invocation per block.
// Bindings: 0 X (fp32 vec4, or fp16 with ACT_F16), column j at j * x_stride;
//           1 Q: column j, block b at uint (j * K + 32 b) / 4, 8 words per block;
//           2 DS: vec2 (d, s) per block at j * K / 32 + b.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_QUANTIZE_ACT
#include "push_constants.h"

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
  float amax = 0.0;
  for (uint i = 0; i < 8; ++i) {
    v[i] = load_x4(base + i);
    const vec4 a = abs(v[i]);
    amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
  }
  const float d = amax / 127.0;
  const float id_ = d != 0.0 ? 1.0 / d : 0.0;
  int qsum = 0;
  uint words[8];
  for (uint i = 0; i < 8; ++i) {
    const ivec4 q = ivec4(round(v[i] * id_));
    qsum += q.x + q.y + q.z + q.w;
    words[i] = (uint(q.x) & 255u) | ((uint(q.y) & 255u) << 8) | ((uint(q.z) & 255u) << 16) | (uint(q.w) << 24);
  }
  const uint o = (j * pc.K + b * 32) / 16;  // uvec4 index
  xq[o] = uvec4(words[0], words[1], words[2], words[3]);
  xq[o + 1] = uvec4(words[4], words[5], words[6], words[7]);
  ds[j * blocks + b] = vec2(d, d * float(qsum));
}
