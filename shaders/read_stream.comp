#version 450
// Reads n uvec4s (grid-stride, 16 bytes per invocation per step) and writes
// nothing unless their sum hits a value the fill never produces: the loads
// cannot be dropped. `vkq bench chain` chains these to measure what a decode
// step's structure costs with perfect memory-bound kernels (bytes read per
// dispatch at the copy rate, plus each dependent dispatch's fixed cost).
// n = 0: a workgroup that loads nothing (the cost of the dispatch alone).
// Bindings: 0 src[n] uvec4, 1 dst uint (one word).
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_ELEMENTWISE
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uvec4 acc = uvec4(0);
  for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) acc += src[i];
  if (acc.x + acc.y + acc.z + acc.w == 0x9e3779b9u) dst[0] = acc.x;
}
