#version 450
// RoPE and the KV-cache write, for n tokens at positions start_pos + t:
//   q pairs rotate in place in qkv; k pairs rotate and go to the K cache;
//   v pairs go to the V cache unchanged; both at cache row start_pos + t.
// RoPE is llama.cpp's LLAMA (non-NeoX) rope (common/rope.glsl).
// start_pos comes from the step buffer, so a recorded decode step can be
// replayed at every position. One invocation per pair (grid-stride).
// Bindings: 0 qkv (fp32 [n][qkv_stride]: q, k, v), 1 step (uint start_pos),
//           2 freq factors (fp32 [>= 1]), 3 K cache, 4 V cache (kv_cache.glsl).
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_ROPE_KV
#include "push_constants.h"
#include "kv_cache.glsl"

layout(local_size_x_id = 0) in;

layout(std430, binding = 0) buffer Qkv { vec2 qkv[]; };
layout(std430, binding = 1) readonly buffer Step { uint start_pos; };
layout(std430, binding = 2) readonly buffer Freq { float freq_factors[]; };
layout(std430, binding = 3) writeonly buffer KCache { KV_WORD kc[]; };
layout(std430, binding = 4) writeonly buffer VCache { KV_WORD vc[]; };

#include "rope.glsl"

vec2 rotate(vec2 x, uint i, uint pos) { return rope_rotate(x, i, pos, pc.rope_dims, pc.freq_base, pc.n_freq_factors); }

void main() {
  const uint half_hd = pc.head_dim / 2u;
  const uint q_pairs = pc.n_heads * half_hd, kv_pairs = pc.n_kv_heads * half_hd;
  const uint per_token = q_pairs + 2u * kv_pairs;
  const uint total = pc.n_tokens * per_token;
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint id = gl_GlobalInvocationID.x; id < total; id += stride) {
    const uint t = id / per_token, p = id % per_token;
    const uint pos = start_pos + t;
    const uint src = (t * pc.qkv_stride) / 2u + p;  // qkv_stride is even
    if (p < q_pairs) {
      qkv[src] = rotate(qkv[src], p % half_hd, pos);
    } else if (pos < pc.n_ctx) {
      const uint kvp = (p - q_pairs) % kv_pairs;
      const uint dst = pos * kv_pairs + kvp;
      if (p < q_pairs + kv_pairs) kc[dst] = kv_pack(rotate(qkv[src], kvp % half_hd, pos));
      else vc[dst] = kv_pack(qkv[src]);
    }
  }
}
