#version 450
// RMSNorm per row: out = x / sqrt(mean(x^2) + eps) * w, fp32.
// One workgroup per row (x + y * 65535); sum of squares by a shared-memory
// tree (runs on every device; WG_SIZE a power of two, checked on the host).
// Bindings: 0 x, 1 w [width], 2 out (may be the same buffer as x: each
// element is read before any is written, separated by the barrier).
// QUANT_OUT (width a multiple of 32; offsets and strides multiples of 4):
// also 3 XQ, 4 DS, the output row r quantized to 8-bit blocks for the
// integer-dot GEMV (quantize_block.glsl; row r of XQ/DS is output row r, from
// 0, whatever out_offset is). Decode runs this once per layer input on one
// workgroup, so its time is its chain of memory round trips: x and w are
// read once, as vec4s, all loads of an invocation issued together, and x * w
// is kept in shared memory (rows up to 4 * CACHE4 wide; wider ones read x
// and w again, so `out` must not be x then) for the
// quantization, which then reads no global memory.
// OUT_F16 (without QUANT_OUT; width, out_offset and out_stride even): `out`
// in fp16, two elements packed per uint: the same fp32 products rounded
// once, what ops::ConvertF16 would make of the fp32 output, written for a
// prefill GEMM that reads fp16 activations (no conversion dispatch).
// DEFERRED (with QUANT_OUT; decode, for the integer-dot GEMV that applies
// the norm's scale itself): no reduction and no `out`; XQ/DS get x * w in
// 8-bit blocks, unscaled, and 5 SS the sum of x^2 over each block (row r's
// block b at r * width / 32 + b). The consumer (matvec_idot IN_SCALE)
// multiplies its result by 1 / sqrt(sum(SS) / width + eps): block
// quantization is scale-invariant, so it sees the same 8-bit values.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_RMSNORM
#include "push_constants.h"
#ifdef QUANT_OUT
#include "quantize_block.glsl"
#endif

layout(constant_id = 0) const uint WG_SIZE = 256;
layout(local_size_x_id = 0) in;

#ifdef QUANT_OUT
layout(std430, binding = 0) readonly buffer X { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer W { vec4 w4[]; };
layout(std430, binding = 2) writeonly buffer Out { vec4 out4[]; };
layout(std430, binding = 3) writeonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 4) writeonly buffer DS { vec2 ds[]; };
#else
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
#ifdef OUT_F16
layout(std430, binding = 2) writeonly buffer Out { uint outh[]; };
#else
layout(std430, binding = 2) writeonly buffer Out { float outv[]; };
#endif
#endif

shared float partial[WG_SIZE];
const uint UNROLL = 8;

#if defined(QUANT_OUT) && defined(DEFERRED)
layout(std430, binding = 5) writeonly buffer SS { float ssb[]; };

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * 65535u;
  if (row >= pc.rows) return;
  const uint xi4 = (pc.in_offset + row * pc.in_stride) / 4u, blocks = pc.width / 32u;
  for (uint b = gl_LocalInvocationID.x; b < blocks; b += WG_SIZE) {
    vec4 xv[8], v[8];
    for (uint i = 0; i < 8u; ++i) xv[i] = x4[xi4 + 8u * b + i];
    float ss = 0.0;
    for (uint i = 0; i < 8u; ++i) {
      ss += dot(xv[i], xv[i]);
      v[i] = xv[i] * w4[8u * b + i];
    }
    uvec4 lo, hi;
    vec2 dsv;
    quantize_block32(v, lo, hi, dsv);
    const uint o = (row * pc.width + b * 32u) / 16u;
    xq[o] = lo;
    xq[o + 1u] = hi;
    ds[row * blocks + b] = dsv;
    ssb[row * blocks + b] = ss;
  }
}
#elif defined(QUANT_OUT)
layout(constant_id = 1) const uint CACHE4 = 2048;  // vec4s of x * w kept in shared memory (host: what fits)
const uint LOADS = 4;      // vec4 loads of x (and of w) in flight per invocation
shared vec4 xw[CACHE4];

vec4 x_times_w(uint xi4, uint i4) { return i4 < CACHE4 ? xw[i4] : x4[xi4 + i4] * w4[i4]; }

void main() {
  const uint row = gl_WorkGroupID.x + gl_WorkGroupID.y * 65535u;
  if (row >= pc.rows) return;
  const uint tid = gl_LocalInvocationID.x, n4 = pc.width / 4u;
  const uint xi4 = (pc.in_offset + row * pc.in_stride) / 4u, oi4 = (pc.out_offset + row * pc.out_stride) / 4u;
  float ss = 0.0;
  for (uint base = tid; base < n4; base += WG_SIZE * LOADS) {
    vec4 v[LOADS], g[LOADS];
    for (uint u = 0; u < LOADS; ++u) {
      const uint i4 = min(base + u * WG_SIZE, n4 - 1u);  // past the end: reloads the last, skipped below
      v[u] = x4[xi4 + i4];
      g[u] = w4[i4];
    }
    for (uint u = 0; u < LOADS; ++u) {
      const uint i4 = base + u * WG_SIZE;
      if (i4 >= n4) break;
      ss += dot(v[u], v[u]);
      if (i4 < CACHE4) xw[i4] = v[u] * g[u];
    }
  }
  partial[tid] = ss;
  barrier();
  for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
    if (tid < s) partial[tid] += partial[tid + s];
    barrier();
  }
  const float scale = inversesqrt(partial[0] / float(pc.width) + pc.eps);
  // Block b = vec4s 8b .. 8b+7, in the same products x * w, then * scale,
  // as the fp32 output: the GEMV sees exactly the rounding of `out`.
  const uint blocks = pc.width / 32u;
  for (uint b = tid; b < blocks; b += WG_SIZE) {
    vec4 v[8];
    for (uint i = 0; i < 8u; ++i) {
      v[i] = x_times_w(xi4, 8u * b + i) * scale;
      out4[oi4 + 8u * b + i] = v[i];
    }
    uvec4 lo, hi;
    vec2 dsv;
    quantize_block32(v, lo, hi, dsv);
    const uint o = (row * pc.width + b * 32u) / 16u;
    xq[o] = lo;
    xq[o + 1u] = hi;
    ds[row * blocks + b] = dsv;
  }
}
#else
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
#ifdef OUT_F16
  // Element pairs (2i, 2i + 1), one packed word each.
  const uint pairs = pc.width / 2u, ohi = oi / 2u;
  for (uint base = tid; base < pairs; base += WG_SIZE * UNROLL) {
    vec2 v[UNROLL], g[UNROLL];
    for (uint u = 0; u < UNROLL; ++u) {
      const uint i = base + u * WG_SIZE;
      v[u] = i < pairs ? vec2(x[xi + 2u * i], x[xi + 2u * i + 1u]) : vec2(0.0);
      g[u] = i < pairs ? vec2(w[2u * i], w[2u * i + 1u]) : vec2(0.0);
    }
    for (uint u = 0; u < UNROLL; ++u)
      if (base + u * WG_SIZE < pairs) outh[ohi + base + u * WG_SIZE] = packHalf2x16(v[u] * scale * g[u]);
  }
#else
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
#endif
}
#endif
