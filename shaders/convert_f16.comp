#version 450
// h[i] = fp16(x[i]) for n vec4s of fp32 (grid-stride, 4 elements per
// invocation per step): the fp16 copy of a prefill GEMM's activations where
// the device's GEMM for fp16 activations is the faster one (ops::ConvertF16;
// the layout, column strides included, is kept element for element).
// Bindings: 0 x[n] vec4, 1 h[n] uvec2 (two packed halves each).
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_ELEMENTWISE
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer H { uvec2 h[]; };

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
    const vec4 v = x[i];
    h[i] = uvec2(packHalf2x16(v.xy), packHalf2x16(v.zw));
  }
}
