#version 450
// Decode attention for one token at start_pos (the step buffer), with RoPE
// and the KV-cache write fused, as attention.comp's ROPE_FUSED kernel does
// it (same bindings, push constants and split partials) but built for few
// dependent rounds of memory, which is what decode attention's time is at
// short contexts (benchmarks/RESULTS.md, calls 45-48):
// - invocation i owns pairs i and i + WG_SIZE of the head (head_dim <=
//   4 * WG_SIZE, checked on the host), so q, the token's k and v, the
//   running output and the softmax state all live in registers;
// - the cache is read in blocks of RB rows, each invocation loading its
//   pairs of all RB keys and values at once (one round per block, coalesced
//   rows; the first block's in the round that loads q, k and v, each
//   later one's after the block before); a row's score is a subgroupAdd
//   and one exchange of the subgroups' sums through shared memory (one
//   barrier per block);
// - the softmax is online and in registers (every invocation keeps the same
//   m and l);
// - a head's rows are split over as many of its SPLITS workgroups as have
//   SPLIT_ROWS rows each (active splits, from the context length on the device:
//   the others exit at once), and the last to finish combines the splits'
//   (m, l, acc) RB at a time, again one round per RB splits.
// Bindings: 0 the token's qkv row (q, k, v; q_stride wide), 1 step (uint
// start_pos), 2 K cache, 3 V cache (kv_cache.glsl), 4 out (fp32), 5 rope
// frequency factors, 6 Part ([n_heads][SPLITS][1 + head_dim / 2] vec2),
// 7 Count ([n_heads], zero between dispatches; the combining workgroup
// resets it). QUANT_OUT (head_dim a multiple of 32): 8 XQ, 9 DS, the output
// in 8-bit blocks (quantize_block.glsl). CHAIN (common/chain.glsl): the
// chain's flags at the binding after the last.
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_EXT_control_flow_attributes : require
#define VKQ_PC_ATTENTION
#include "push_constants.h"
#ifdef QUANT_OUT
#define CHAIN_BINDING 10
#else
#define CHAIN_BINDING 8
#endif
#include "chain.glsl"
#include "kv_cache.glsl"
#ifdef QUANT_OUT
#include "quantize_block.glsl"
#endif

layout(constant_id = 0) const uint WG_SIZE = 64;
layout(constant_id = 1) const uint SPLITS = 1;  // workgroups per head
layout(constant_id = 2) const uint SPLIT_ROWS = 4;  // fewest cache rows per active split (host: 4)
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) CHAIN_IO readonly buffer Q { vec2 q[]; };
layout(std430, binding = 1) readonly buffer Step { uint start_pos; };
layout(std430, binding = 2) buffer KCache { KV_WORD kc[]; };
layout(std430, binding = 3) buffer VCache { KV_WORD vc[]; };
layout(std430, binding = 4) CHAIN_IO writeonly buffer Out { vec2 outv[]; };
layout(std430, binding = 5) readonly buffer Freq { float freq_factors[]; };
#include "rope.glsl"
layout(std430, binding = 6) coherent buffer Part { vec2 part[]; };
layout(std430, binding = 7) coherent buffer Count { uint count[]; };
#ifdef QUANT_OUT
layout(std430, binding = 8) CHAIN_IO writeonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 9) CHAIN_IO writeonly buffer DS { vec2 ds[]; };
#endif

const uint NP = 2;  // pairs per invocation: tid, tid + WG_SIZE
const uint RB = 8;  // cache rows (and splits, in the combine) per round
const float kNoScore = -1.0e30;
// Per-subgroup row sums, double-buffered by block parity so one barrier per
// block suffices (a subgroup has at least one invocation: at most WG_SIZE).
shared float sred[2][RB][WG_SIZE];
shared bool last_split;
#ifdef QUANT_OUT
shared vec2 res[NP * WG_SIZE];
#endif

// The score of each of the block's rows, summed over the workgroup: every
// invocation returns the same RB values.
void block_scores(inout float s[RB], uint parity) {
  [[unroll]] for (uint r = 0; r < RB; ++r) s[r] = subgroupAdd(s[r]);
  if (gl_NumSubgroups > 1u) {
    if (subgroupElect())
      [[unroll]] for (uint r = 0; r < RB; ++r) sred[parity][r][gl_SubgroupID] = s[r];
    barrier();
    [[unroll]] for (uint r = 0; r < RB; ++r) s[r] = 0.0;
    for (uint g = 0; g < gl_NumSubgroups; ++g)
      [[unroll]] for (uint r = 0; r < RB; ++r) s[r] += sred[parity][r][g];
  }
}

void main() {
  const uint h = gl_WorkGroupID.x, split = gl_WorkGroupID.y, tid = gl_LocalInvocationID.x;
  const uint hp = pc.head_dim / 2u;
  const uint kv_pairs = pc.n_kv_heads * hp;
  const uint group = pc.n_heads / pc.n_kv_heads, kvh = h / group;
  const uint pos = start_pos;
  const uint L = min(pos + 1u, pc.n_ctx);  // attended rows 0 .. L - 1
  if (L <= pc.fused_rows) {  // the QKV GEMV before took this token (common/qkv_attention.glsl)
#ifdef CHAIN
    if (tid == 0u) chain_signal();
#endif
    return;
  }
  // Active splits: at least SPLIT_ROWS rows each, none empty.
  uint n_active = min(SPLITS, (L + SPLIT_ROWS - 1u) / SPLIT_ROWS);
  const uint chunk = (L + n_active - 1u) / n_active;
  n_active = (L + chunk - 1u) / chunk;
  if (split >= n_active) {
#ifdef CHAIN
    if (tid == 0u) chain_signal();  // nothing written
#endif
    return;
  }
  const uint j0 = split * chunk, j1 = min(L, j0 + chunk);

  chain_wait();
  // The block's keys and values, all loaded at once (rows b0 .. b0 + RB - 1
  // of this split but the token's own row pos, which comes from registers).
  // The first block's are loaded before q, k and v are read: after the
  // cache write to row pos below their loads would wait a round for q's
  // (the compiler cannot move them past a store to the cache); each later
  // block's at the end of the block before, into the same registers.
  vec2 kk[RB][NP], vv[RB][NP];
#define LOAD_BLOCK(B0)                                           \
  [[unroll]] for (uint r = 0; r < RB; ++r) {                     \
    const uint jr = (B0) + r, base = jr * kv_pairs + kvh * hp;   \
    [[unroll]] for (uint i = 0; i < NP; ++i) {                   \
      const uint d = tid + i * WG_SIZE;                          \
      kk[r][i] = vv[r][i] = vec2(0.0);                           \
      if (jr < j1 && jr != pos && d < hp) {                      \
        kk[r][i] = kv_unpack(kc[base + d]);                      \
        vv[r][i] = kv_unpack(vc[base + d]);                      \
      }                                                          \
    }                                                            \
  }
  LOAD_BLOCK(j0);
  const uint qrow = 0u, krow = pc.n_heads * hp, vrow = krow + kv_pairs;
  vec2 qv[NP], kcur[NP], vcur[NP], acc[NP];
  [[unroll]] for (uint i = 0; i < NP; ++i) {
    const uint d = tid + i * WG_SIZE;
    qv[i] = kcur[i] = vcur[i] = acc[i] = vec2(0.0);
    if (d < hp) {
      qv[i] = rope_rotate(q[qrow + h * hp + d], d, pos, pc.rope_dims, pc.freq_base, pc.n_freq_factors) * pc.scale;
      kcur[i] = rope_rotate(q[krow + kvh * hp + d], d, pos, pc.rope_dims, pc.freq_base, pc.n_freq_factors);
      vcur[i] = q[vrow + kvh * hp + d];
      if (h % group == 0u && split == 0u && pos < pc.n_ctx) {
        kc[pos * kv_pairs + kvh * hp + d] = kv_pack(kcur[i]);
        vc[pos * kv_pairs + kvh * hp + d] = kv_pack(vcur[i]);
      }
    }
  }

  float m = kNoScore, l = 0.0;
  uint parity = 0u;
  for (uint b0 = j0; b0 < j1; b0 += RB, parity ^= 1u) {
    // The token's own row (only the last row of the last split can be it).
    if (pos >= b0 && pos < b0 + RB && pos < j1) {
      [[unroll]] for (uint r = 0; r < RB; ++r)
        if (b0 + r == pos)
          [[unroll]] for (uint i = 0; i < NP; ++i)
            if (tid + i * WG_SIZE < hp) {
              kk[r][i] = kcur[i];
              vv[r][i] = vcur[i];
            }
    }
    float s[RB];
    [[unroll]] for (uint r = 0; r < RB; ++r) {
      s[r] = 0.0;
      [[unroll]] for (uint i = 0; i < NP; ++i) s[r] += dot(qv[i], kk[r][i]);
    }
    block_scores(s, parity);
    float m_new = m;
    [[unroll]] for (uint r = 0; r < RB; ++r)
      if (b0 + r < j1) m_new = max(m_new, s[r]);
    const float alpha = exp(m - m_new);
    l *= alpha;
    [[unroll]] for (uint i = 0; i < NP; ++i) acc[i] *= alpha;
    [[unroll]] for (uint r = 0; r < RB; ++r) {
      const float p = b0 + r < j1 ? exp(s[r] - m_new) : 0.0;
      l += p;
      [[unroll]] for (uint i = 0; i < NP; ++i) acc[i] += p * vv[r][i];
    }
    m = m_new;
    if (b0 + RB < j1) {
      LOAD_BLOCK(b0 + RB);
    }
  }
#undef LOAD_BLOCK

  if (n_active > 1u) {
    // Publish this split's (m, l, acc); the head's last workgroup combines:
    // acc = sum_s e^(m_s - M) acc_s, l = sum_s e^(m_s - M) l_s, M = max_s m_s.
    const uint stride = 1u + hp, hb0 = h * SPLITS * stride, pb = hb0 + split * stride;
    if (tid == 0u) part[pb] = vec2(m, l);
    [[unroll]] for (uint i = 0; i < NP; ++i) {
      const uint d = tid + i * WG_SIZE;
      if (d < hp) part[pb + 1u + d] = acc[i];
    }
    memoryBarrierBuffer();
    barrier();
    if (tid == 0u) last_split = atomicAdd(count[h], 1u) == n_active - 1u;
    barrier();
    if (!last_split) {
#ifdef CHAIN
      if (tid == 0u) chain_signal();  // its writes are the partials, read by the combine alone
#endif
      return;
    }
    memoryBarrierBuffer();
    m = kNoScore;
    l = 0.0;
    [[unroll]] for (uint i = 0; i < NP; ++i) acc[i] = vec2(0.0);
    for (uint s0 = 0; s0 < n_active; s0 += RB) {
      vec2 ml[RB], pa[RB][NP];
      [[unroll]] for (uint r = 0; r < RB; ++r) {
        // Past the last split: a split's own words reloaded (in bounds), weighed 0 below.
        const uint o = hb0 + min(s0 + r, n_active - 1u) * stride;
        ml[r] = part[o];
        [[unroll]] for (uint i = 0; i < NP; ++i) pa[r][i] = part[o + 1u + min(tid + i * WG_SIZE, hp - 1u)];
      }
      float m_new = m;
      [[unroll]] for (uint r = 0; r < RB; ++r) m_new = max(m_new, ml[r].x);
      const float alpha = exp(m - m_new);
      l *= alpha;
      [[unroll]] for (uint i = 0; i < NP; ++i) acc[i] *= alpha;
      [[unroll]] for (uint r = 0; r < RB; ++r) {
        const float w = s0 + r < n_active ? exp(ml[r].x - m_new) : 0.0;
        l += w * ml[r].y;
        [[unroll]] for (uint i = 0; i < NP; ++i) acc[i] += w * pa[r][i];
      }
      m = m_new;
    }
    if (tid == 0u) count[h] = 0u;
  }

  [[unroll]] for (uint i = 0; i < NP; ++i) {
    const uint d = tid + i * WG_SIZE;
    if (d < hp) {
      outv[h * hp + d] = acc[i] / l;
#ifdef QUANT_OUT
      res[d] = acc[i] / l;
#endif
    }
  }
#ifdef QUANT_OUT
  barrier();
  // Block b of this head: pairs 16 b .. 16 b + 15.
  const uint width = pc.n_heads * pc.head_dim, hb = pc.head_dim / 32;
  for (uint b = tid; b < hb; b += WG_SIZE) {
    vec4 v[8];
    for (uint i = 0; i < 8; ++i) v[i] = vec4(res[16 * b + 2 * i], res[16 * b + 2 * i + 1]);
    uvec4 lo, hi;
    vec2 dsv;
    quantize_block32(v, lo, hi, dsv);
    const uint gb = h * hb + b;
    xq[(gb * 32) / 16] = lo;
    xq[(gb * 32) / 16 + 1] = hi;
    ds[gb] = dsv;
  }
#endif
#ifdef CHAIN
  CHAIN_PUBLISH();
  if (tid == 0u) chain_signal();
#endif
}
