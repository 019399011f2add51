#version 450
// SwiGLU: out[t][i] = silu(g) * u with g = in[t][i], u = in[t][up_offset + i],
// silu(g) = g / (1 + e^-g). Grid-stride over n_tokens * width.
// Bindings: 0 in (gate and up halves of each token's row), 1 out.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_SWIGLU
#include "push_constants.h"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer In { float inv[]; };
layout(std430, binding = 1) writeonly buffer Out { float outv[]; };

void main() {
  const uint total = pc.n_tokens * pc.width;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint id = gl_GlobalInvocationID.x; id < total; id += stride) {
    const uint t = id / pc.width, i = id % pc.width;
    const float g = inv[t * pc.in_stride + i];
    const float u = inv[t * pc.in_stride + pc.up_offset + i];
    outv[t * pc.out_stride + i] = g / (1.0 + exp(-g)) * u;
  }
}
