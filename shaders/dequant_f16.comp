#version 450
// A block-type weight chunk (Q4_0, Q4_1, Q8_0) dequantized into the F16
// GPU layout (runtime/gpu_weights.hpp: rows of Kp fp16; a block type's K is
// whole blocks, so Kp = K and there is no padding to write): the fp16 copy a prefill GEMM on fp16 weights reads instead of
// decoding blocks itself (ops::DequantF16). Each weight is d * q + m in
// fp32, rounded once to fp16, as the cooperative-matrix kernels' decoding
// rounds it.
// One invocation per 16-byte granule of the quant plane (x + y * groups_x
// workgroups); it writes the granule's WG_ELEMS fp16 values as uvec4s of 8.
// Bindings: 0 quants, 1 scales, 2 out (the fp16 plane, uvec4).
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_DEQUANT_F16
#include "push_constants.h"
#include "weights.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = WBINDINGS) writeonly buffer Out { uvec4 outv[]; };

void main() {
  const uint g = (gl_WorkGroupID.x + gl_WorkGroupID.y * pc.groups_x) * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
  if (g >= pc.rows * (pc.Kp / WG_ELEMS)) return;
  vec4 q[WG_VEC4];
  decode_granule(wq[g], q);
  const vec2 dm = block_scale(g * WG_ELEMS / 32u);
  // Rows of Kp in both planes: granule g's weights follow the chunk's first row's.
  const uint o = (pc.row0 * pc.Kp + g * WG_ELEMS) / 8u;
  for (uint v = 0; v < WG_VEC4; v += 2) {
    const vec4 a = dm.x * q[v] + dm.y, b = dm.x * q[v + 1] + dm.y;
    outv[o + v / 2u] = uvec4(packHalf2x16(a.xy), packHalf2x16(a.zw), packHalf2x16(b.xy), packHalf2x16(b.zw));
  }
}
