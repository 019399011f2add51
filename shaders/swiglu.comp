#version 450
// SwiGLU: out[t][i] = silu(g) * u with g = in[t][i], u = in[t][up_offset + i],
// silu(g) = g / (1 + e^-g). Grid-stride over n_tokens * width.
// Bindings: 0 in (gate and up halves of each token's row), 1 out.
// QUANT_OUT (width a multiple of 32): one invocation per 32-block, which it
// also writes to 2 XQ, 3 DS for the integer-dot GEMV (quantize_block.glsl).
// OUT_F16 (without QUANT_OUT; width and out_stride even): `out` in fp16, two
// elements packed per uint, the fp32 values rounded once (as ops::ConvertF16
// would), for a prefill GEMM that reads fp16 activations.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_SWIGLU
#include "push_constants.h"
#ifdef QUANT_OUT
#include "quantize_block.glsl"
layout(std430, binding = 2) writeonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 3) writeonly buffer DS { vec2 ds[]; };
#endif

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer In { float inv[]; };
#ifdef OUT_F16
layout(std430, binding = 1) writeonly buffer Out { uint outh[]; };
#else
layout(std430, binding = 1) writeonly buffer Out { float outv[]; };
#endif

float swiglu(uint t, uint i) {
  const float g = inv[t * pc.in_stride + i];
  const float u = inv[t * pc.in_stride + pc.up_offset + i];
  return g / (1.0 + exp(-g)) * u;
}

void main() {
#ifdef QUANT_OUT
  const uint blocks = pc.width / 32, total_blocks = pc.n_tokens * blocks;
  const uint bstride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint id = gl_GlobalInvocationID.x; id < total_blocks; id += bstride) {
    const uint t = id / blocks, b = id % blocks;
    vec4 v[8];
    for (uint i = 0; i < 8; ++i) {
      for (uint c = 0; c < 4; ++c) {
        const uint k = b * 32 + 4 * i + c;
        v[i][c] = swiglu(t, k);
        outv[t * pc.out_stride + k] = v[i][c];
      }
    }
    uvec4 lo, hi;
    vec2 dsv;
    quantize_block32(v, lo, hi, dsv);
    const uint o = (t * pc.width + b * 32) / 16;
    xq[o] = lo;
    xq[o + 1] = hi;
    ds[t * blocks + b] = dsv;
  }
  return;
#endif
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
#ifdef OUT_F16
  const uint pairs = pc.width / 2u, total = pc.n_tokens * pairs;
  for (uint id = gl_GlobalInvocationID.x; id < total; id += stride) {
    const uint t = id / pairs, i = 2u * (id % pairs);
    outh[(t * pc.out_stride + i) / 2u] = packHalf2x16(vec2(swiglu(t, i), swiglu(t, i + 1u)));
  }
#else
  const uint total = pc.n_tokens * pc.width;
  for (uint id = gl_GlobalInvocationID.x; id < total; id += stride) {
    const uint t = id / pc.width, i = id % pc.width;
    outv[t * pc.out_stride + i] = swiglu(t, i);
  }
#endif
}
