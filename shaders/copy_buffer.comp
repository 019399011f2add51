#version 450
// dst = src, 16 bytes per invocation per step (grid-stride). Used by
// `vkq bench copy` to measure the bandwidth compute kernels can reach
// (vkCmdCopyBuffer on a compute queue may take a slower path).
// Bindings: 0 src[n] uvec4, 1 dst[n] uvec4.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_ELEMENTWISE
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uvec4 dst[]; };

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) dst[i] = src[i];
}
