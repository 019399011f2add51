#version 450
// z = x + y over n fp32 elements.
// Bindings: 0 x[n], 1 y[n], 2 z[n] (fp32, std430).
// Grid-stride loop: any number of workgroups covers any n.
#define VKQ_PC_ELEMENTWISE
#extension GL_GOOGLE_include_directive : require
#include "push_constants.h"

layout(local_size_x_id = 0) in;  // spec constant 0: workgroup size

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) writeonly buffer Z { float z[]; };

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
    z[i] = x[i] + y[i];
  }
}
