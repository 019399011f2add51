#version 450
// RMSNorm per row: out = x / sqrt(mean(x^2) + eps) * w, fp32.
// One workgroup per row (x + y * 65535); sum of squares by a shared-memory
// tree (runs on every device; WG_SIZE a power of two, checked on the host).
// Bindings: 0 x, 1 w [width], 2 out (may be the same buffer as x: each
// element is read before any is written, separated by the barrier).
// QUANT_OUT (width a multiple of 32): also 3 XQ, 4 DS, the output row r
// quantized to 8-bit blocks for the integer-dot GEMV (quantize_block.glsl;
// row r of XQ/DS is output row r, from 0, whatever out_offset is).
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_RMSNORM
#include "push_constants.h"
#ifdef QUANT_OUT
#include "quantize_block.glsl"
#endif

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };
#ifdef QUANT_OUT
layout(std430, binding = 3) writeonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 4) writeonly buffer DS { vec2 ds[]; };
#endif

shared float partial[WG_SIZE];
const uint UNROLL = 8;

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * 65535u;
  if (row >= pc.rows) return;
  const uint tid = gl_LocalInvocationID.x;
  const uint xi = pc.in_offset + row * pc.in_stride, oi = pc.out_offset + row * pc.out_stride;
  // Loads in batches of UNROLL per invocation, issued before they are used:
  // a decode row is one workgroup, so its time is the number of round
  // trips to memory, not bandwidth.
  float ss = 0.0;
  for (uint base = tid; base < pc.width; base += WG_SIZE * UNROLL) {
    float v[UNROLL];
    for (uint u = 0; u < UNROLL; ++u) {
      const uint i = base + u * WG_SIZE;
      v[u] = i < pc.width ? x[xi + i] : 0.0;
    }
    for (uint u = 0; u < UNROLL; ++u) ss += v[u] * v[u];
  }
  partial[tid] = ss;
  barrier();
  for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
    if (tid < s) partial[tid] += partial[tid + s];
    barrier();
  }
  const float scale = inversesqrt(partial[0] / float(pc.width) + pc.eps);
  for (uint base = tid; base < pc.width; base += WG_SIZE * UNROLL) {
    float v[UNROLL], g[UNROLL];
    for (uint u = 0; u < UNROLL; ++u) {
      const uint i = base + u * WG_SIZE;
      v[u] = i < pc.width ? x[xi + i] : 0.0;
      g[u] = i < pc.width ? w[i] : 0.0;
    }
    for (uint u = 0; u < UNROLL; ++u)
      if (base + u * WG_SIZE < pc.width) outv[oi + base + u * WG_SIZE] = v[u] * scale * g[u];
  }
#ifdef QUANT_OUT
  const uint blocks = pc.width / 32;
  for (uint b = tid; b < blocks; b += WG_SIZE) {
    vec4 v[8];
    for (uint i = 0; i < 8; ++i) {
      const uint k = b * 32 + 4 * i;
      v[i] = vec4(x[xi + k], x[xi + k + 1], x[xi + k + 2], x[xi + k + 3]) * scale *
             vec4(w[k], w[k + 1], w[k + 2], w[k + 3]);
    }
    uvec4 lo, hi;
    vec2 dsv;
    quantize_block32(v, lo, hi, dsv);
    const uint o = (row * pc.width + b * 32) / 16;
    xq[o] = lo;
    xq[o + 1] = hi;
    ds[row * blocks + b] = dsv;
  }
#endif
}
