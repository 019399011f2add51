#version 450
// Grouped-query attention with a causal mask over the KV cache, for n tokens
// at positions start_pos + t (start_pos from the step buffer):
//   out[t][h] = sum_j softmax_j(q[t][h] . K[j][h / group] * scale) V[j][h / group]
// over cache rows j = 0 .. start_pos + t (group = n_heads / n_kv_heads).
// Prefill takes attention_tiled.comp (tokens in tiles) where its tile fits;
// this kernel there otherwise, and in decode (ROPE_FUSED) where the device
// lacks subgroup arithmetic for attention_decode.comp.
// One workgroup per (head, token): keys in chunks of WG_SIZE, each key's
// score from ROW_THREADS invocations (below), one key per invocation for
// the softmax, with an online softmax (running max m and sum l, the output
// rescaled by e^(m_old - m_new) at each chunk), so any context length fits in
// a fixed amount of shared memory. fp32 arithmetic; reductions by
// shared-memory trees (no subgroup operations: runs everywhere).
// Bindings: 0 q (fp32, token t's heads at t * q_stride), 1 step (uint
//           start_pos), 2 K cache, 3 V cache (kv_cache.glsl), 4 out (fp32).
// ROPE_FUSED (decode: one token at start_pos): binding 0 is the token's qkv
// row (q, k, v), 5 the rope frequency factors; the workgroup rotates q and
// the token's k itself (common/rope.glsl), attends to cache rows
// 0 .. start_pos - 1 and the token's own k, v from shared memory, and the
// first query head of each group writes that k, v to cache row start_pos:
// no rope_kv dispatch before it. SPLITS (specialization constant 1) > 1
// splits the cache rows of each head over SPLITS workgroups (grid (n_heads,
// SPLITS), flash-decoding): each writes its (m, l, acc) to 6 Part, counts
// itself in 7 Count[h], and the last of the head's workgroups to arrive
// combines them (and resets the count for the next dispatch), so decode
// fills the device at any context without a second dispatch. Quantized
// outputs then move to 8 and 9.
// QUANT_OUT (head_dim a multiple of 32): also 5 XQ, 6 DS, the output row
// (n_heads * head_dim wide) in 8-bit blocks for the integer-dot GEMV
// (quantize_block.glsl); a head's blocks are its own, so each workgroup
// quantizes what it computed.
// CHAIN (decode, common/chain.glsl): no barrier before this dispatch; the
// workgroup waits for the dispatch before it (its qkv row) and counts
// itself when done; the flags are the binding after the last above.
#extension GL_GOOGLE_include_directive : require
#define VKQ_PC_ATTENTION
#include "push_constants.h"
#if defined(ROPE_FUSED) && defined(QUANT_OUT)
#define CHAIN_BINDING 10
#elif defined(ROPE_FUSED)
#define CHAIN_BINDING 8
#else
#define CHAIN_BINDING 7
#endif
#include "chain.glsl"
#include "kv_cache.glsl"
#ifdef QUANT_OUT
#include "quantize_block.glsl"
#endif

layout(constant_id = 0) const uint WG_SIZE = 64;  // power of two
layout(constant_id = 1) const uint SPLITS = 1;    // ROPE_FUSED: workgroups per head
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) CHAIN_IO readonly buffer Q { vec2 q[]; };
layout(std430, binding = 1) readonly buffer Step { uint start_pos; };
#ifdef ROPE_FUSED
layout(std430, binding = 2) buffer KCache { KV_WORD kc[]; };
layout(std430, binding = 3) buffer VCache { KV_WORD vc[]; };
#else
layout(std430, binding = 2) readonly buffer KCache { KV_WORD kc[]; };
layout(std430, binding = 3) readonly buffer VCache { KV_WORD vc[]; };
#endif
layout(std430, binding = 4) CHAIN_IO writeonly buffer Out { vec2 outv[]; };
#ifdef ROPE_FUSED
layout(std430, binding = 5) readonly buffer Freq { float freq_factors[]; };
#include "rope.glsl"
layout(std430, binding = 6) coherent buffer Part { vec2 part[]; };  // [n_heads][SPLITS][1 + head_dim / 2]
layout(std430, binding = 7) coherent buffer Count { uint count[]; };  // [n_heads], zero between dispatches
#define XQ_BINDING 8
#else
#define XQ_BINDING 5
#endif
#ifdef QUANT_OUT
layout(std430, binding = XQ_BINDING) CHAIN_IO writeonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = XQ_BINDING + 1) CHAIN_IO writeonly buffer DS { vec2 ds[]; };
#endif

const uint HD_PAIRS_MAX = 128;  // head_dim <= 256 (checked on the host)
shared vec2 qs[HD_PAIRS_MAX];
shared vec2 acc[HD_PAIRS_MAX];
#ifdef ROPE_FUSED
shared vec2 kcur[HD_PAIRS_MAX], vcur[HD_PAIRS_MAX];  // this token's rotated k and its v
#endif
shared float ps[WG_SIZE];
shared float red[WG_SIZE];
#ifdef ROPE_FUSED
shared bool last_split;
shared float wsplit[VKQ_ATTENTION_SPLITS_MAX];  // push_constants.h; checked on the host
#endif

const float kNoScore = -1.0e30;
// Scores: invocations per cache row, and rows per pass (WG_SIZE >= 8).
const uint ROW_THREADS = 8;
const uint ROWS_PER_PASS = WG_SIZE / ROW_THREADS;

float tree_max(float v) {
  const uint tid = gl_LocalInvocationID.x;
  red[tid] = v;
  barrier();
  for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
    if (tid < s) red[tid] = max(red[tid], red[tid + s]);
    barrier();
  }
  const float r = red[0];
  barrier();
  return r;
}

float tree_sum(float v) {
  const uint tid = gl_LocalInvocationID.x;
  red[tid] = v;
  barrier();
  for (uint s = WG_SIZE / 2; s > 0; s >>= 1) {
    if (tid < s) red[tid] += red[tid + s];
    barrier();
  }
  const float r = red[0];
  barrier();
  return r;
}

void main() {
#ifdef ROPE_FUSED
  const uint h = gl_WorkGroupID.x, t = 0u, split = gl_WorkGroupID.y;
#else
  const uint h = gl_WorkGroupID.x, t = gl_WorkGroupID.y, split = 0u;
#endif
  const uint tid = gl_LocalInvocationID.x;
  const uint hp = pc.head_dim / 2u;                 // pairs per head
  const uint kv_pairs = pc.n_kv_heads * hp;          // pairs per cache row
  const uint kvh = h / (pc.n_heads / pc.n_kv_heads);
  const uint L = min(start_pos + t + 1u, pc.n_ctx);  // attended rows
#ifdef ROPE_FUSED
  const uint chunk = (L + SPLITS - 1u) / SPLITS;    // this workgroup's rows: j0 .. j1 - 1
  const uint j0 = min(L, split * chunk), j1 = min(L, j0 + chunk);
#else
  const uint j0 = 0u, j1 = L;
#endif
#ifdef ROPE_FUSED
  if (L <= pc.fused_rows) {  // the QKV GEMV before took this token (common/qkv_attention.glsl)
#ifdef CHAIN
    if (tid == 0u) chain_signal();
#endif
    return;
  }
#endif

  chain_wait();
#ifdef ROPE_FUSED
  const uint pos = start_pos + t;  // t = 0: one token
  const uint group = pc.n_heads / pc.n_kv_heads;
  const uint qrow = (t * pc.q_stride) / 2u, krow = qrow + pc.n_heads * hp, vrow = krow + kv_pairs;
  for (uint d = tid; d < hp; d += WG_SIZE) {
    qs[d] = rope_rotate(q[qrow + h * hp + d], d, pos, pc.rope_dims, pc.freq_base, pc.n_freq_factors) * pc.scale;
    kcur[d] = rope_rotate(q[krow + kvh * hp + d], d, pos, pc.rope_dims, pc.freq_base, pc.n_freq_factors);
    vcur[d] = q[vrow + kvh * hp + d];
    if (h % group == 0u && split == 0u && pos < pc.n_ctx) {
      kc[pos * kv_pairs + kvh * hp + d] = kv_pack(kcur[d]);
      vc[pos * kv_pairs + kvh * hp + d] = kv_pack(vcur[d]);
    }
    acc[d] = vec2(0.0);
  }
#else
  for (uint d = tid; d < hp; d += WG_SIZE) {
    qs[d] = q[(t * pc.q_stride) / 2u + h * hp + d] * pc.scale;
    acc[d] = vec2(0.0);
  }
#endif
  barrier();

  float m = kNoScore, l = 0.0;
  for (uint c0 = j0; c0 < j1; c0 += WG_SIZE) {
    const uint j = c0 + tid;
    const uint nj = min(WG_SIZE, j1 - c0);  // rows in this chunk
    // Scores of the chunk's rows into ps[], ROW_THREADS invocations per row
    // (each a strided share of its pairs, all its loads in flight at once),
    // WG_SIZE / ROW_THREADS rows per pass: a pass costs one wait on memory
    // however long the head, where one row per invocation waited hp / 8
    // times (the largest share of decode attention's time at a few rows
    // per split).
    for (uint r0 = 0; r0 < nj; r0 += ROWS_PER_PASS) {
      const uint r = r0 + tid / ROW_THREADS, lane = tid % ROW_THREADS;
      float part_dot = 0.0;
      if (r < nj) {
        const uint jr = c0 + r, base = jr * kv_pairs + kvh * hp;
#ifdef ROPE_FUSED
        if (jr == pos) {
          for (uint d = lane; d < hp; d += ROW_THREADS) part_dot += dot(qs[d], kcur[d]);
        } else
#endif
        {
          for (uint d0 = lane; d0 < hp; d0 += 8u * ROW_THREADS) {
            vec2 kk[8];
            for (uint i = 0; i < 8u; ++i) {
              const uint d = d0 + i * ROW_THREADS;
              kk[i] = d < hp ? kv_unpack(kc[base + d]) : vec2(0.0);
            }
            for (uint i = 0; i < 8u; ++i) {
              const uint d = d0 + i * ROW_THREADS;
              if (d < hp) part_dot += dot(qs[d], kk[i]);
            }
          }
        }
      }
      red[tid] = part_dot;
      barrier();
      if (lane == 0u && r < nj) {
        float sum = 0.0;
        for (uint i = 0; i < ROW_THREADS; ++i) sum += red[tid + i];
        ps[r] = sum;
      }
      barrier();
    }
    const float s = tid < nj ? ps[tid] : kNoScore;
    const float m_new = max(m, tree_max(s));
    const float p = j < j1 ? exp(s - m_new) : 0.0;
    ps[tid] = p;
    const float alpha = exp(m - m_new);
    l = l * alpha + tree_sum(p);  // tree_sum's barriers also publish ps
#ifdef ROPE_FUSED
    // The token's own row (pos, from shared memory) can only be the last
    // attended row: rows < L <= pos + 1.
    const uint nk = c0 + nj == pos + 1u ? nj - 1u : nj;  // rows read from the cache
#else
    const uint nk = nj;
#endif
    for (uint d = tid; d < hp; d += WG_SIZE) {
      vec2 a = acc[d] * alpha;
      uint jj = 0;
      for (; jj + 4u <= nk; jj += 4u) {  // four loads in flight, as above
        vec2 vv[4];
        for (uint i = 0; i < 4u; ++i) vv[i] = kv_unpack(vc[(c0 + jj + i) * kv_pairs + kvh * hp + d]);
        for (uint i = 0; i < 4u; ++i) a += ps[jj + i] * vv[i];
      }
      for (; jj < nk; ++jj) a += ps[jj] * kv_unpack(vc[(c0 + jj) * kv_pairs + kvh * hp + d]);
#ifdef ROPE_FUSED
      if (nk < nj) a += ps[nk] * vcur[d];
#endif
      acc[d] = a;
    }
    m = m_new;
    barrier();
  }
#ifdef ROPE_FUSED
  if (SPLITS > 1u) {
    // Publish this split's (m, l, acc); the head's last workgroup combines:
    // acc = sum_s e^(m_s - M) acc_s, l = sum_s e^(m_s - M) l_s, M = max_s m_s.
    const uint stride = 1u + hp, pb = (h * SPLITS + split) * stride;
    if (tid == 0u) part[pb] = vec2(m, l);
    for (uint d = tid; d < hp; d += WG_SIZE) part[pb + 1u + d] = acc[d];
    memoryBarrierBuffer();
    barrier();
    if (tid == 0u) last_split = atomicAdd(count[h], 1u) == SPLITS - 1u;
    barrier();
    if (!last_split) {
      if (tid == 0u) chain_signal();
      return;
    }
    memoryBarrierBuffer();
    // The splits' (m, l) read in parallel, one split per invocation, and
    // their weights e^(m_s - M) kept in shared memory for the sum of acc.
    const uint hb0 = h * SPLITS * stride;
    float mloc = kNoScore;
    for (uint sp = tid; sp < SPLITS; sp += WG_SIZE) mloc = max(mloc, part[hb0 + sp * stride].x);
    const float mx = tree_max(mloc);
    float lloc = 0.0;
    for (uint sp = tid; sp < SPLITS; sp += WG_SIZE) {
      const vec2 ml = part[hb0 + sp * stride];
      wsplit[sp] = exp(ml.x - mx);
      lloc += ml.y * wsplit[sp];
    }
    l = tree_sum(lloc);  // its barriers also publish wsplit
    for (uint d = tid; d < hp; d += WG_SIZE) {
      vec2 a = vec2(0.0);
      uint sp = 0;
      for (; sp + 4u <= SPLITS; sp += 4u) {  // four loads in flight
        vec2 pp[4];
        for (uint i = 0; i < 4u; ++i) pp[i] = part[hb0 + (sp + i) * stride + 1u + d];
        for (uint i = 0; i < 4u; ++i) a += pp[i] * wsplit[sp + i];
      }
      for (; sp < SPLITS; ++sp) a += part[hb0 + sp * stride + 1u + d] * wsplit[sp];
      acc[d] = a;
    }
    if (tid == 0u) count[h] = 0u;
    barrier();
  }
#endif
  for (uint d = tid; d < hp; d += WG_SIZE) outv[(t * pc.out_stride) / 2u + h * hp + d] = acc[d] / l;
#ifdef QUANT_OUT
  // Block b of this head: pairs 16 b .. 16 b + 15 of acc.
  const uint width = pc.n_heads * pc.head_dim, hb = pc.head_dim / 32;
  for (uint b = tid; b < hb; b += WG_SIZE) {
    vec4 v[8];
    for (uint i = 0; i < 8; ++i) v[i] = vec4(acc[16 * b + 2 * i], acc[16 * b + 2 * i + 1]) / l;
    uvec4 lo, hi;
    vec2 dsv;
    quantize_block32(v, lo, hi, dsv);
    const uint gb = h * hb + b;  // block index in the row
    const uint o = (t * width + gb * 32) / 16;
    xq[o] = lo;
    xq[o + 1] = hi;
    ds[t * (width / 32) + gb] = dsv;
  }
#endif
#ifdef CHAIN
  CHAIN_PUBLISH();
  if (tid == 0u) chain_signal();
#endif
}
