#version 450
// Token embedding lookup (ggml_get_rows) from a weight matrix in the GPU
// layout (weights.glsl), any weight type:
//   out[t * out_stride + k] = W[tokens[t]][k], k < K,
// for the tokens whose row lies in this chunk [row0, row0 + rows); the host
// dispatches once per chunk, so every token is written by exactly one.
// One workgroup per token (x + y * 65535 for long batches); invocations walk
// the row's 16-byte granules.
// Bindings: 0 quants, [1 scales], then tokens (int32 [n_tokens]), then out (fp32).
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_GET_ROWS
#include "push_constants.h"
#include "weights.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = WBINDINGS) readonly buffer Tokens { int tokens[]; };
layout(std430, binding = WBINDINGS + 1) writeonly buffer Out { float outv[]; };

void main() {
  const uint t = gl_WorkGroupID.x + gl_WorkGroupID.y * 65535u;
  if (t >= pc.n_tokens) return;
  const int tok = tokens[t];
  if (tok < int(pc.row0) || tok >= int(pc.row0 + pc.rows)) return;  // another chunk's row (or checked on the host)
  const uint r = uint(tok) - pc.row0;
  const uint gpr = pc.Kp / WG_ELEMS;
  for (uint gi = gl_LocalInvocationID.x; gi < gpr; gi += gl_WorkGroupSize.x) {
    vec4 q[WG_VEC4];
    decode_granule(wq[r * gpr + gi], q);
#ifdef WQUANT
    const vec2 dm = block_scale((r * gpr + gi) * WG_ELEMS / 32u);
#endif
    const uint k0 = gi * WG_ELEMS;
    for (uint v = 0; v < WG_VEC4; ++v) {
#ifdef WQUANT
      const vec4 w = dm.x * q[v] + dm.y;
#else
      const vec4 w = q[v];
#endif
      for (uint e = 0; e < 4; ++e) {
        // Element 4v + e of the granule; Q4 granules hold 32 weights in the
        // order decode_granule gives (q[0..3] = 0..15, q[4..7] = 16..31).
        const uint k = k0 + 4u * v + e;
        if (k < pc.K) outv[t * pc.out_stride + k] = w[e];
      }
    }
  }
}
