// Decode attention as the tail of the QKV GEMV (matvec_idot_block.comp
// EPI_ATTN, with IN_SCALE): the GEMV's workgroups are grouped by KV head
// (qkv_row() below: the q rows of the head's GQ query heads, then its k and
// v rows, 32 rows per workgroup), each counts itself in count[g] when its
// rows are written, and the last of a group runs that group's attention for
// this token: RoPE, the KV-cache write at start_pos, and attention over
// cache rows 0 .. start_pos. No dispatch of its own, so no barrier and no
// launch between QKV and attention (benchmarks/RESULTS.md: decode attention
// cost 11-16 us per layer as a dispatch, most of it fixed).
// One workgroup per head group walks every row, so this runs only while
// start_pos + 1 <= pc.fused_rows; past it the host's split attention
// dispatch after this one (attention_decode.comp) takes the token.
// The arithmetic is attention_decode.comp's (online softmax in fp32, the
// token's own k and v unrounded, the output in 8-bit blocks by
// quantize_block32), its order is not: subgroup s takes cache rows
// RBR * s .. RBR * s + RBR - 1, then RBR * (s + NSG) ..., a lane the pairs
// lane, lane + subgroup size, ... of each row; the subgroups' (m, l, acc)
// meet in shared memory.
// Bindings after the GEMV's 0-5 (IN_SCALE's sums of squares at 5): 6 step
// (start_pos), 7 K cache, 8 V cache (kv_cache.glsl), 9 the attention output
// (fp32, [n_heads][head_dim]), 10 rope frequency factors, 11 count
// ([n_kv_heads] words, zero between dispatches: the last workgroup resets
// its group's), 12 XQ, 13 DS (the output in 8-bit blocks, for attn_output).
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_control_flow_attributes : require
#include "kv_cache.glsl"

layout(constant_id = 4) const uint GQ = 1;       // query heads per KV head
layout(constant_id = 5) const uint HP = 64;      // pairs per head (head_dim / 2)
layout(constant_id = 6) const uint NPL = 2;      // pairs of a row per lane: HP / subgroup size, rounded up
layout(constant_id = 7) const uint NSG_MAX = 16; // subgroups per workgroup, at most
const uint RBR = 4;                              // cache rows per subgroup per round

layout(std430, binding = 6) readonly buffer Step { uint start_pos; };
layout(std430, binding = 7) buffer KCache { KV_WORD kc[]; };
layout(std430, binding = 8) buffer VCache { KV_WORD vc[]; };
layout(std430, binding = 9) writeonly buffer AttOut { vec2 att_out[]; };
layout(std430, binding = 10) readonly buffer Freq { float freq_factors[]; };
#include "rope.glsl"
layout(std430, binding = 11) coherent buffer Count { uint count[]; };
layout(std430, binding = 12) writeonly buffer AttXQ { uvec4 att_xq[]; };
layout(std430, binding = 13) writeonly buffer AttDS { vec2 att_ds[]; };

shared vec2 sq[GQ * HP];          // the group's rotated, scaled q; then its output
shared vec2 skv[2u * HP];         // the token's rotated k, then its v
shared vec2 spart[NSG_MAX * HP];  // one head's acc per subgroup
shared vec2 sml[NSG_MAX];         // and its (m, l)
shared bool last_of_group;

const float kNoScore = -1.0e30;

// Row of the stacked [q | k | v] matrix that the workgroup's row rr computes:
// workgroup blk belongs to KV head g = blk / wpg.
uint qkv_row(uint blk, uint rr) {
  const uint hd = 2u * HP, wpg = (GQ + 2u) * hd / 32u, g = blk / wpg, lr = (blk % wpg) * 32u + rr;
  if (lr < GQ * hd) return g * GQ * hd + lr;
  if (lr < (GQ + 1u) * hd) return pc.n_heads * hd + g * hd + (lr - GQ * hd);
  return (pc.n_heads + pc.n_kv_heads) * hd + g * hd + (lr - (GQ + 1u) * hd);
}

vec2 qkv_pair(uint p) { return vec2(y[pc.row0 + 2u * p], y[pc.row0 + 2u * p + 1u]); }

// Every invocation, in uniform control flow, after the workgroup's rows are
// written to y: counts the workgroup in its group; the last runs attention.
void qkv_attention(uint blk) {
  const uint pos = start_pos, L = min(pos + 1u, pc.n_ctx);
  if (L > pc.fused_rows) return;  // the split attention dispatch's token
  const uint wpg = (GQ + 2u) * 2u * HP / 32u, g = blk / wpg, tid = gl_LocalInvocationIndex;
  // Release the rows, count; the last acquires every other workgroup's.
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (tid == 0u)
    last_of_group = atomicAdd(count[g], 1u, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquireRelease) ==
                    wpg - 1u;
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                 gl_SemanticsAcquireRelease);
  if (!last_of_group) return;

  const uint kv_pairs = pc.n_kv_heads * HP, q0 = g * GQ * HP;
  const uint k0 = pc.n_heads * HP + g * HP, v0 = pc.n_heads * HP + kv_pairs + g * HP;
  const float scale = inversesqrt(float(2u * HP));
  // q of the group's heads, the token's k and v: rotated, into shared
  // memory; k and v also into cache row pos.
  for (uint i = tid; i < (GQ + 2u) * HP; i += WG_SIZE) {
    if (i < GQ * HP) {
      sq[i] = rope_rotate(qkv_pair(q0 + i), i % HP, pos, pc.rope_dims, pc.freq_base, pc.n_freq_factors) * scale;
    } else if (i < (GQ + 1u) * HP) {
      const uint d = i - GQ * HP;
      const vec2 k = rope_rotate(qkv_pair(k0 + d), d, pos, pc.rope_dims, pc.freq_base, pc.n_freq_factors);
      skv[d] = k;
      if (pos < pc.n_ctx) kc[pos * kv_pairs + g * HP + d] = kv_pack(k);
    } else {
      const uint d = i - (GQ + 1u) * HP;
      const vec2 v = qkv_pair(v0 + d);
      skv[HP + d] = v;
      if (pos < pc.n_ctx) vc[pos * kv_pairs + g * HP + d] = kv_pack(v);
    }
  }
  barrier();

  const uint lane = gl_SubgroupInvocationID, sgs = gl_SubgroupSize, sg = gl_SubgroupID, nsg = gl_NumSubgroups;
  vec2 qv[GQ * NPL], acc[GQ * NPL];
  float m[GQ], l[GQ];
  [[unroll]] for (uint h = 0; h < GQ; ++h) {
    m[h] = kNoScore;
    l[h] = 0.0;
    [[unroll]] for (uint i = 0; i < NPL; ++i) {
      const uint d = lane + i * sgs;
      qv[h * NPL + i] = d < HP ? sq[h * HP + d] : vec2(0.0);
      acc[h * NPL + i] = vec2(0.0);
    }
  }
  for (uint j0 = sg * RBR; j0 < L; j0 += nsg * RBR) {
    // The round's keys and values first (the token's own row from shared
    // memory, unrounded), then its scores.
    vec2 kk[RBR * NPL], vv[RBR * NPL];
    [[unroll]] for (uint r = 0; r < RBR; ++r) {
      const uint jr = j0 + r, base = jr * kv_pairs + g * HP;
      [[unroll]] for (uint i = 0; i < NPL; ++i) {
        const uint d = lane + i * sgs;
        kk[r * NPL + i] = vv[r * NPL + i] = vec2(0.0);
        if (jr < L && d < HP) {
          if (jr == pos) {
            kk[r * NPL + i] = skv[d];
            vv[r * NPL + i] = skv[HP + d];
          } else {
            kk[r * NPL + i] = kv_unpack(kc[base + d]);
            vv[r * NPL + i] = kv_unpack(vc[base + d]);
          }
        }
      }
    }
    [[unroll]] for (uint h = 0; h < GQ; ++h) {
      float s[RBR];
      float m_new = m[h];
      [[unroll]] for (uint r = 0; r < RBR; ++r) {
        float part = 0.0;
        [[unroll]] for (uint i = 0; i < NPL; ++i) part += dot(qv[h * NPL + i], kk[r * NPL + i]);
        s[r] = subgroupAdd(part);
        if (j0 + r < L) m_new = max(m_new, s[r]);
      }
      const float alpha = exp(m[h] - m_new);
      l[h] *= alpha;
      [[unroll]] for (uint i = 0; i < NPL; ++i) acc[h * NPL + i] *= alpha;
      [[unroll]] for (uint r = 0; r < RBR; ++r) {
        const float p = j0 + r < L ? exp(s[r] - m_new) : 0.0;
        l[h] += p;
        [[unroll]] for (uint i = 0; i < NPL; ++i) acc[h * NPL + i] += p * vv[r * NPL + i];
      }
      m[h] = m_new;
    }
  }

  // Per head: the subgroups' (m, l, acc) combined, acc = sum_s e^(m_s - M)
  // acc_s over l = sum_s e^(m_s - M) l_s (a subgroup without rows has
  // m_s = kNoScore: weight 0); the output to att_out and over its q in sq.
  [[unroll]] for (uint h = 0; h < GQ; ++h) {
    if (subgroupElect()) sml[sg] = vec2(m[h], l[h]);
    [[unroll]] for (uint i = 0; i < NPL; ++i) {
      const uint d = lane + i * sgs;
      if (d < HP) spart[sg * HP + d] = acc[h * NPL + i];
    }
    barrier();
    for (uint d = tid; d < HP; d += WG_SIZE) {
      float mm = kNoScore;
      for (uint s = 0; s < nsg; ++s) mm = max(mm, sml[s].x);
      float ls = 0.0;
      vec2 o = vec2(0.0);
      for (uint s = 0; s < nsg; ++s) {
        const float w = exp(sml[s].x - mm);
        ls += w * sml[s].y;
        o += w * spart[s * HP + d];
      }
      o /= ls;
      att_out[(g * GQ + h) * HP + d] = o;
      sq[h * HP + d] = o;
    }
    barrier();
  }
  // The group's output in 8-bit blocks of 32 values (16 pairs).
  for (uint b = tid; b < GQ * HP / 16u; b += WG_SIZE) {
    vec4 v[8];
    [[unroll]] for (uint i = 0; i < 8u; ++i) v[i] = vec4(sq[16u * b + 2u * i], sq[16u * b + 2u * i + 1u]);
    uvec4 lo, hi;
    vec2 dsv;
    quantize_block32(v, lo, hi, dsv);
    const uint gb = g * GQ * HP / 16u + b;
    att_xq[2u * gb] = lo;
    att_xq[2u * gb + 1u] = hi;
    att_ds[gb] = dsv;
  }
  if (tid == 0u) count[g] = 0u;
}
