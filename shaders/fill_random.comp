#version 450
// Fills a buffer of 32-bit words with pseudo-random data from a counter-based
// hash (PCG's output function over seed and index), for synthetic weights
// built on the device (`vkq bench model --synthetic`): no upload, and never
// zeros, which would time differently from real data.
//   mode 0: raw bits (quant planes: any bit pattern is a valid nibble/int8);
//   mode 1: two fp16 values in [-scale, scale] per word (scale planes, F16);
//   mode 2: one fp32 value in [-scale, scale] (F32 weights);
//   mode 3: fp32 in [1 - scale, 1 + scale] (norm weights near 1);
//   mode 4: two bf16 values in [-scale, scale] (BF16 weights).
// Bindings: 0 words.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_FILL_RANDOM
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer Words { uint words[]; };

uint pcg(uint v) {
  const uint state = v * 747796405u + 2891336453u;
  const uint word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Uniform in [-1, 1) from 24 random bits.
float unit(uint bits) { return float(bits >> 8) * (2.0 / 16777216.0) - 1.0; }

void main() {
  const uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * pc.groups_x * gl_WorkGroupSize.x;
  if (i >= pc.n) return;
  const uint h = pcg(pcg(pc.offset + i) ^ pc.seed);
  uint w = h;
  if (pc.mode == 1u) {
    w = packHalf2x16(vec2(unit(h), unit(pcg(h))) * pc.scale);
  } else if (pc.mode == 2u) {
    w = floatBitsToUint(unit(h) * pc.scale);
  } else if (pc.mode == 3u) {
    w = floatBitsToUint(1.0 + unit(h) * pc.scale);
  } else if (pc.mode == 4u) {
    const uint a = floatBitsToUint(unit(h) * pc.scale) >> 16, b = floatBitsToUint(unit(pcg(h)) * pc.scale) >> 16;
    w = a | (b << 16);
  }
  words[i] = w;
}
