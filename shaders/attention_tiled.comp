#version 450
// Prefill attention in tiles of queries (flash-attention's loop, on plain
// shared memory): the same function as attention.comp without ROPE_FUSED,
//   out[t][h] = sum_j softmax_j(q[t][h] . K[j][h / group] * scale) V[j][h / group]
// over cache rows j = 0 .. start_pos + t, for n tokens at positions
// start_pos + t (start_pos from the step buffer).
//
// A workgroup takes QT consecutive tokens t0 .. t0 + QT - 1 of one head
// (grid (n_heads, ceil(n / QT))) and walks the cache rows its last token
// attends to in chunks of KT rows. Each chunk's K and V rows are loaded into
// shared memory once for all QT queries (attention.comp's per-token
// workgroups read every row once per token), then:
//   scores  invocation (key kj = tid % KT, queries QPI of them) dots its key
//           with its queries, masked to kNoScore past each query's position;
//   softmax IPR = WG_SIZE / QT invocations per query row, KT / IPR scores
//           each: the online softmax's running max m and sum l per row, the
//           scores replaced by their weights p;
//   PV      the same IPR invocations per row hold the row's output pairs
//           d = part + IPR i in registers, rescaled by e^(m_old - m_new)
//           and accumulated over the chunk's rows.
// Shared memory, for the host's choice of (WG_SIZE, QT, KT) (ops::Attention
// checks it fits): q QT x HP vec2, K and V KT x (HP + 1) KV_WORDs (one word
// of padding: keys in different banks), scores QT x (KT + 1) floats.
// fp32 arithmetic, no subgroup operations: runs everywhere.
// Bindings: 0 q (fp32, token t's heads at t * q_stride), 1 step (uint
//           start_pos), 2 K cache, 3 V cache (kv_cache.glsl), 4 out (fp32);
// QUANT_OUT (head_dim a multiple of 32): 5 XQ, 6 DS, the output rows in
// 8-bit blocks (quantize_block.glsl), a head's blocks its own.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#define VKQ_PC_ATTENTION
#include "push_constants.h"
#include "kv_cache.glsl"
#ifdef QUANT_OUT
#include "quantize_block.glsl"
#endif

layout(constant_id = 0) const uint WG_SIZE = 128;
layout(constant_id = 1) const uint QT = 16;  // queries per workgroup; WG_SIZE % QT == 0
layout(constant_id = 2) const uint KT = 32;  // cache rows per chunk; WG_SIZE % KT == 0, KT % (WG_SIZE / QT) == 0
layout(constant_id = 3) const uint HP = 64;  // pairs per head (head_dim / 2)
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Q { vec2 q[]; };
layout(std430, binding = 1) readonly buffer Step { uint start_pos; };
layout(std430, binding = 2) readonly buffer KCache { KV_WORD kc[]; };
layout(std430, binding = 3) readonly buffer VCache { KV_WORD vc[]; };
layout(std430, binding = 4) writeonly buffer Out { vec2 outv[]; };
#ifdef QUANT_OUT
layout(std430, binding = 5) writeonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 6) writeonly buffer DS { vec2 ds[]; };
#endif

const uint KP = HP + 1;              // K / V row pitch in words
const uint SP = KT + 1;              // score row pitch
const uint IPR = WG_SIZE / QT;       // invocations per query row (softmax, PV)
const uint QPI = QT * KT / WG_SIZE;  // queries per invocation (scores)
const uint EPI = KT / IPR;           // scores per invocation (softmax)
const uint ACC_N = (HP + IPR - 1) / IPR;  // output pairs per invocation

shared vec2 qs[QT * HP];  // this tile's queries (scaled); at the end its outputs
shared KV_WORD ks[KT * KP];
shared KV_WORD vs[KT * KP];
shared float sc[QT * SP];
shared float red_m[WG_SIZE], red_l[WG_SIZE];

const float kNoScore = -1.0e30;

void main() {
  const uint h = gl_WorkGroupID.x, t0 = gl_WorkGroupID.y * QT, tid = gl_LocalInvocationID.x;
  const uint nq = min(QT, pc.n_tokens - t0);  // tokens in this tile
  const uint kv_pairs = pc.n_kv_heads * HP;     // pairs per cache row
  const uint kvh = h / (pc.n_heads / pc.n_kv_heads);
  const uint pos0 = start_pos + t0;             // the tile's first position
  const uint L = min(pos0 + nq, pc.n_ctx);      // rows the tile's last token attends to

  for (uint i = tid; i < QT * HP; i += WG_SIZE) {
    const uint r = i / HP, d = i % HP;
    qs[i] = r < nq ? q[((t0 + r) * pc.q_stride) / 2u + h * HP + d] * pc.scale : vec2(0.0);
  }

  // Scores: key kj, queries qg * QPI + i.
  const uint kj = tid % KT, qg = tid / KT;
  // Softmax and PV: query row r, part of IPR.
  const uint r = tid / IPR, part = tid % IPR;
  float m = kNoScore, l = 0.0;
  vec2 acc[ACC_N];
  [[unroll]] for (uint i = 0; i < ACC_N; ++i) acc[i] = vec2(0.0);

  for (uint c0 = 0; c0 < L; c0 += KT) {
    const uint nc = min(KT, L - c0);  // rows in this chunk
    for (uint i = tid; i < KT * HP; i += WG_SIZE) {
      const uint c = i / HP, d = i % HP;
      if (c < nc) {
        const uint g = (c0 + c) * kv_pairs + kvh * HP + d;
        ks[c * KP + d] = kc[g];
        vs[c * KP + d] = vc[g];
      }
    }
    barrier();  // (the first time, also publishes qs)

    {
      float s[QPI];
      [[unroll]] for (uint i = 0; i < QPI; ++i) s[i] = 0.0;
      if (kj < nc) {
        for (uint d = 0; d < HP; ++d) {
          const vec2 k = kv_unpack(ks[kj * KP + d]);
          [[unroll]] for (uint i = 0; i < QPI; ++i) s[i] += dot(qs[(qg * QPI + i) * HP + d], k);
        }
      }
      [[unroll]] for (uint i = 0; i < QPI; ++i) {
        const uint qr = qg * QPI + i;
        const bool seen = kj < nc && qr < nq && c0 + kj <= pos0 + qr;
        sc[qr * SP + kj] = seen ? s[i] : kNoScore;
      }
    }
    barrier();

    // Online softmax of row r over this chunk.
    float mloc = kNoScore;
    [[unroll]] for (uint e = 0; e < EPI; ++e) mloc = max(mloc, sc[r * SP + part + e * IPR]);
    red_m[tid] = mloc;
    barrier();
    float m_new = m;
    for (uint i = 0; i < IPR; ++i) m_new = max(m_new, red_m[r * IPR + i]);
    float lloc = 0.0;
    [[unroll]] for (uint e = 0; e < EPI; ++e) {
      const uint c = part + e * IPR;
      const float sv = sc[r * SP + c];
      const float p = sv == kNoScore ? 0.0 : exp(sv - m_new);
      sc[r * SP + c] = p;
      lloc += p;
    }
    red_l[tid] = lloc;
    barrier();  // also publishes the weights p
    float lsum = 0.0;
    for (uint i = 0; i < IPR; ++i) lsum += red_l[r * IPR + i];
    const float alpha = exp(m - m_new);
    l = l * alpha + lsum;
    m = m_new;

    [[unroll]] for (uint i = 0; i < ACC_N; ++i) acc[i] *= alpha;
    for (uint c = 0; c < nc; ++c) {
      const float p = sc[r * SP + c];
      [[unroll]] for (uint i = 0; i < ACC_N; ++i) {
        const uint d = part + i * IPR;
        if (d < HP) acc[i] += p * kv_unpack(vs[c * KP + d]);
      }
    }
    barrier();  // this chunk's K, V and weights read before the next overwrite
  }

  const float inv_l = r < nq ? 1.0 / l : 0.0;  // l > 0 for a real row: it attends to row 0
  [[unroll]] for (uint i = 0; i < ACC_N; ++i) {
    const uint d = part + i * IPR;
    if (r < nq && d < HP) {
      outv[((t0 + r) * pc.out_stride) / 2u + h * HP + d] = acc[i] * inv_l;
#ifdef QUANT_OUT
      qs[r * HP + d] = acc[i] * inv_l;
#endif
    }
  }
#ifdef QUANT_OUT
  barrier();
  // Block b of token t0 + rb's head: pairs 16 b .. 16 b + 15.
  const uint width = pc.n_heads * 2u * HP, hb = HP / 16u;
  for (uint b = tid; b < nq * hb; b += WG_SIZE) {
    const uint rb = b / hb, bb = b % hb;
    vec4 v[8];
    for (uint i = 0; i < 8; ++i) v[i] = vec4(qs[rb * HP + 16 * bb + 2 * i], qs[rb * HP + 16 * bb + 2 * i + 1]);
    uvec4 lo, hi;
    vec2 dsv;
    quantize_block32(v, lo, hi, dsv);
    const uint t = t0 + rb, gb = h * hb + bb;  // block index in the row
    const uint o = (t * width + gb * 32) / 16;
    xq[o] = lo;
    xq[o + 1] = hi;
    ds[t * (width / 32) + gb] = dsv;
  }
#endif
}
