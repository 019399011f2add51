#version 450
// A block-type weight chunk (Q4_0, Q4_1, Q8_0) dequantized into the F16
// GPU layout (runtime/gpu_weights.hpp: rows of Kp fp16; a block type's K is
// whole blocks, so Kp = K and there is no padding to write): the fp16 copy
// a prefill GEMM on fp16 weights reads instead of decoding blocks itself
// (ops::DequantF16). Each weight is d * q + m in fp32, rounded once to
// fp16, as the cooperative-matrix kernels' decoding rounds it.
// One invocation per 16-byte output word (8 weights, a quarter of a
// 32-block), so that a subgroup's stores are contiguous (one store per
// invocation; a granule per invocation, with its 2-4 words 32-64 bytes
// apart across the lanes, ran at a third of the copy rate on the H100):
//   Q4_0 / Q4_1  word p of block b: nibbles of the granule's bytes 0-7
//                (p = 0, 2) or 8-15 (p = 1, 3), low (p < 2) or high;
//   Q8_0         word p of block b: bytes 8p .. 8p+7 of the block (half of
//                granule 2b + p / 2).
// (x + y * groups_x workgroups.) Bindings: 0 quants, 1 scales, 2 out (uvec4).
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_DEQUANT_F16
#include "push_constants.h"
#include "weights.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = WBINDINGS) writeonly buffer Out { uvec4 outv[]; };

void main() {
  const uint o = (gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (o >= pc.rows * (pc.Kp / 8u)) return;
  const uint b = o >> 2, p = o & 3u;  // block of the chunk, word of the block
#if defined(WTYPE_Q8_0)
  const uvec4 u = wq[o >> 1];
  const uvec2 h = (p & 1u) != 0u ? u.zw : u.xy;
  const ivec2 s = ivec2(h);
  const vec4 q0 = vec4(bitfieldExtract(s.x, 0, 8), bitfieldExtract(s.x, 8, 8), bitfieldExtract(s.x, 16, 8), bitfieldExtract(s.x, 24, 8));
  const vec4 q1 = vec4(bitfieldExtract(s.y, 0, 8), bitfieldExtract(s.y, 8, 8), bitfieldExtract(s.y, 16, 8), bitfieldExtract(s.y, 24, 8));
#else
  const uvec4 u = wq[b];
  const uvec2 h = ((p & 1u) != 0u ? u.zw : u.xy) >> (4u * (p >> 1));  // the nibbles wanted in each byte's low 4 bits
  const vec4 q0 = vec4(h.x & 15u, (h.x >> 8) & 15u, (h.x >> 16) & 15u, (h.x >> 24) & 15u);
  const vec4 q1 = vec4(h.y & 15u, (h.y >> 8) & 15u, (h.y >> 16) & 15u, (h.y >> 24) & 15u);
#endif
  const vec2 dm = block_scale(b);
  const vec4 a = dm.x * q0 + dm.y, c = dm.x * q1 + dm.y;
  outv[pc.row0 * (pc.Kp / 8u) + o] = uvec4(packHalf2x16(a.xy), packHalf2x16(a.zw), packHalf2x16(c.xy), packHalf2x16(c.zw));
}
