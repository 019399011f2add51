#version 450
// Prefill attention on cooperative matrices (VK_KHR_cooperative_matrix,
// 16x16x16 fp16 x fp16 -> fp32, subgroup scope): the same function as
// attention_tiled.comp for an fp16 KV cache,
//   out[t][h] = sum_j softmax_j(q[t][h] . K[j][h / group] * scale) V[j][h / group]
// over cache rows j = 0 .. start_pos + t, for n tokens at positions
// start_pos + t (start_pos from the step buffer).
//
// A workgroup takes QW = 16 NSUB consecutive tokens of one head (grid
// (n_heads, ceil(n / QW))); subgroup s < NSUB owns the 16 queries
// 16 s .. 16 s + 15 (the host makes WG_SIZE NSUB times the largest subgroup
// size, so there are at least NSUB subgroups; any beyond help load only).
// The cache rows the workgroup's last token attends to are walked in chunks
// of KT rows through shared memory (each chunk's loads issued into
// registers while the chunk before is in use), twice:
//   pass 1  S = Q K^T per chunk on cooperative matrices (16 x 16 tiles,
//           HD / 16 MMAs each), stored to the subgroup's score tile; the
//           running maximum m of each query row's unmasked scores, a row's
//           columns split over up to 4 lanes (2 in a subgroup of 32);
//   pass 2  S again; p = exp(s - m) (0 where masked), rounded to fp16 into
//           the subgroup's P tile, the row sums l of those rounded p; then
//           O += P V on cooperative matrices (O: HD / 16 accumulators per
//           subgroup, kept over all chunks).
// With the final maximum known before any p is made, O never needs the
// online softmax's per-row rescaling (which the KHR matrices cannot do to
// an accumulator's rows); the cost is S computed twice. At the end O / l is
// written out (and, with QUANT_OUT, the rows in 8-bit blocks), through the
// score tile.
//
// Cache rows past the workgroup's last position are loaded as zeros (the
// rows there may be unwritten), masked scores never reach p, so every MMA
// input is finite.
//
// Accuracy: q * scale, k, v and p in fp16 (relative 2^-11 each), sums in
// fp32.
//
// Shared memory (host: ops::attention_coopmat_shared_bytes): the K and V
// chunk 2 KT x (HD + 8) halves, which first holds q (QW rows); per
// subgroup a score tile 16 x (KT + 4) floats, a P tile 16 x (KT + 8)
// halves and m, l for each of up to 4 lanes per row.
// Bindings: 0 q (fp32, token t's heads at t * q_stride), 1 step (uint
//           start_pos), 2 K cache, 3 V cache (fp16, kv_cache.glsl's layout,
//           read 8 halves at a time), 4 out (fp32);
// QUANT_OUT (head_dim a multiple of 32): 5 XQ, 6 DS, as attention_tiled.comp.
// Host rules (ops::Attention): HD a multiple of 16 (32 with QUANT_OUT),
// q_stride and out_stride multiples of 4, KT a multiple of 16 and at
// least 32.
//
// COOPMAT_EMULATED builds the same kernel without cooperative matrices (the
// fragment operations below follow the KHR semantics on the shared tiles),
// for tests on devices that lack them (lavapipe), as matmul_coopmat.comp.
#extension GL_GOOGLE_include_directive : require
#ifndef COOPMAT_EMULATED
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#endif
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_control_flow_attributes : require
#define VKQ_PC_ATTENTION
#include "push_constants.h"
#ifdef QUANT_OUT
#include "quantize_block.glsl"
#endif

layout(constant_id = 0) const uint WG_SIZE = 128;
layout(constant_id = 1) const uint NSUB = 4;     // 16-query blocks per workgroup
layout(constant_id = 2) const uint KT = 32;      // cache rows per chunk
layout(constant_id = 3) const uint HD = 128;     // head_dim
layout(constant_id = 4) const uint SG_MIN = 32;  // smallest subgroup size (emulation's slots)
layout(local_size_x_id = 0) in;

layout(std430, binding = 0) readonly buffer Q { vec4 q4[]; };
layout(std430, binding = 1) readonly buffer Step { uint start_pos; };
layout(std430, binding = 2) readonly buffer KCache { uvec4 kc[]; };
layout(std430, binding = 3) readonly buffer VCache { uvec4 vc[]; };
layout(std430, binding = 4) writeonly buffer Out { vec4 out4[]; };
#ifdef QUANT_OUT
layout(std430, binding = 5) writeonly buffer XQ { uvec4 xq[]; };
layout(std430, binding = 6) writeonly buffer DS { vec2 ds[]; };
#endif

const uint QW = 16 * NSUB;
const uint HP4 = (HD + 8) / 4;  // f16vec4s per q / K / V row in shared memory
const uint SP = KT + 4;         // floats per score-tile row
const uint PP4 = (KT + 8) / 4;  // f16vec4s per P-tile row
const uint NDF = HD / 16;       // 16-wide slices of a head
const uint NJF = KT / 16;       // 16-row groups of a chunk

// kv: K rows 0 .. KT - 1, V rows KT .. 2 KT - 1; first the workgroup's q
// (scaled, fp16), read into each subgroup's registers before any chunk.
// Emulated, the A fragments stay offsets into a tile of their own (qs).
#ifndef COOPMAT_EMULATED
const uint KV_ROWS = 2 * KT > QW ? 2 * KT : QW;
#define Q_TILE kv
#else
const uint KV_ROWS = 2 * KT;
shared f16vec4 qs[QW * HP4];
#define Q_TILE qs
#endif
shared f16vec4 kv[KV_ROWS * HP4];
shared float ss[NSUB * 16 * SP];
shared f16vec4 ps[NSUB * 16 * PP4];
// Each query row's softmax is split over up to MAXP lanes (subgroups of 32:
// 2), each with its own running maximum and sum here.
const uint MAXP = 4;
shared float m_s[QW * MAXP], l_s[QW * MAXP];

const float kNoScore = -1.0e30;

// Fixed-count loops: unrolled for the driver's compiler; emulated, kept as
// loops (unrolled around the emulated MMAs, lavapipe's compile of one
// pipeline took minutes).
#ifndef COOPMAT_EMULATED
#define UNROLL [[unroll]]
#else
#define UNROLL [[dont_unroll]]
#endif

// Fragments. Offsets and strides: f16vec4s in qs / kv / ps, floats in ss.
#ifndef COOPMAT_EMULATED
#define FRAG_A coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA>
#define FRAG_B coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB>
#define FRAG_C coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>
#define FRAG_ZERO(c) c = FRAG_C(0.0)
// Q (16 x 16 of qs, row-major), K^T (B[d][j] = K row j: column-major in kv),
// P (row-major in ps), V (B[j][d] = V row j: row-major in kv).
#define LOAD_Q(a, off) coopMatLoad(a, kv, off, HP4, gl_CooperativeMatrixLayoutRowMajor)
#define LOAD_KT(b, off) coopMatLoad(b, kv, off, HP4, gl_CooperativeMatrixLayoutColumnMajor)
#define LOAD_P(a, off) coopMatLoad(a, ps, off, PP4, gl_CooperativeMatrixLayoutRowMajor)
#define LOAD_V(b, off) coopMatLoad(b, kv, off, HP4, gl_CooperativeMatrixLayoutRowMajor)
#define MMA_QK(c, a, b) c = coopMatMulAdd(a, b, c)
#define MMA_PV(c, a, b) c = coopMatMulAdd(a, b, c)
#define STORE_S(c, off) coopMatStore(c, ss, off, SP, gl_CooperativeMatrixLayoutRowMajor)
#else
// A and B are offsets into their tiles (read at the MMA: the tiles change
// only across barriers); lane l holds C elements e = l + i * subgroup size
// (row e / 16, column e % 16) in c[i].
const uint EMU_SLOTS = 256 / SG_MIN;
#define FRAG_A uint
#define FRAG_B uint
#define FRAG_C float[EMU_SLOTS]
#define FRAG_ZERO(c) for (uint i_ = 0; i_ < EMU_SLOTS; ++i_) c[i_] = 0.0
#define LOAD_Q(a, off) a = (off)
#define LOAD_KT(b, off) b = (off)
#define LOAD_P(a, off) a = (off)
#define LOAD_V(b, off) b = (off)
#define MMA_QK(c, a, b) emu_mma(c, a, b, true)
#define MMA_PV(c, a, b) emu_mma(c, a, b, false)
#define STORE_S(c, off) emu_store(c, off)
float half_at(f16vec4 v, uint i) { return float(v[i]); }
void emu_mma(inout float c[EMU_SLOTS], uint a, uint b, bool qk) {
  [[dont_unroll]] for (uint i = 0, e = gl_SubgroupInvocationID; e < 256; ++i, e += gl_SubgroupSize) {
    const uint m = e >> 4, n = e & 15u;
    float acc = c[i];
    [[dont_unroll]] for (uint k = 0; k < 16; ++k) {
      // A[m][k]: qs or ps row-major; B[k][n]: K^T (kv row n, column k) or V (kv row k, column n).
      const uint ai = qk ? 4 * (a + m * HP4) + k : 4 * (a + m * PP4) + k;
      const uint bi = qk ? 4 * (b + n * HP4) + k : 4 * (b + k * HP4) + n;
      const float av = qk ? half_at(qs[ai >> 2], ai & 3u) : half_at(ps[ai >> 2], ai & 3u);
      acc += av * half_at(kv[bi >> 2], bi & 3u);
    }
    c[i] = acc;
  }
}
void emu_store(float c[EMU_SLOTS], uint off) {
  for (uint i = 0, e = gl_SubgroupInvocationID; e < 256; ++i, e += gl_SubgroupSize) ss[off + (e >> 4) * SP + (e & 15u)] = c[i];
}
#endif

// Chunk rows c0 .. c0 + KT - 1 of K (and V), zeros at rows >= L: fetched
// into registers while the chunk before is in use, then stashed into kv.
const uint PER_ROW = HD / 8;  // uvec4s (8 halves) per head row
const uint LOADS = (KT * PER_ROW + WG_SIZE - 1) / WG_SIZE;
uvec4 pk[LOADS], pv[LOADS];

void fetch(uint c0, uint L, uint kv_base, uint row8, bool with_v) {
  UNROLL for (uint u = 0; u < LOADS; ++u) {
    const uint i = gl_LocalInvocationID.x + u * WG_SIZE, c = i / PER_ROW;
    pk[u] = uvec4(0);
    pv[u] = uvec4(0);
    if (i < KT * PER_ROW && c0 + c < L) {
      const uint g = (c0 + c) * row8 + kv_base + i % PER_ROW;
      pk[u] = kc[g];
      if (with_v) pv[u] = vc[g];
    }
  }
}

void stash(bool with_v) {
  UNROLL for (uint u = 0; u < LOADS; ++u) {
    const uint i = gl_LocalInvocationID.x + u * WG_SIZE;
    if (i < KT * PER_ROW) {
      const uint o = (i / PER_ROW) * HP4 + 2 * (i % PER_ROW);
      kv[o] = f16vec4(unpackFloat2x16(pk[u].x), unpackFloat2x16(pk[u].y));
      kv[o + 1] = f16vec4(unpackFloat2x16(pk[u].z), unpackFloat2x16(pk[u].w));
      if (with_v) {
        kv[KT * HP4 + o] = f16vec4(unpackFloat2x16(pv[u].x), unpackFloat2x16(pv[u].y));
        kv[KT * HP4 + o + 1] = f16vec4(unpackFloat2x16(pv[u].z), unpackFloat2x16(pv[u].w));
      }
    }
  }
}

FRAG_A qa[NDF];  // this subgroup's 16 queries

// Scores of block b (queries 16 b ..) against the chunk's row groups below
// Lb: S tiles into the block's score tile.
void scores(uint b, uint c0, uint Lb) {
  UNROLL for (uint jf = 0; jf < NJF; ++jf) {
    if (c0 + 16 * jf >= Lb) break;  // uniform in the subgroup
    FRAG_C s;
    FRAG_ZERO(s);
    UNROLL for (uint df = 0; df < NDF; ++df) {
      FRAG_B k;
      LOAD_KT(k, 16 * jf * HP4 + 4 * df);
      MMA_QK(s, qa[df], k);
    }
    STORE_S(s, 16 * b * SP + 16 * jf);
  }
}

void main() {
  const uint h = gl_WorkGroupID.x, tw = gl_WorkGroupID.y * QW, tid = gl_LocalInvocationID.x;
  const uint nw = min(QW, pc.n_tokens - tw);  // tokens in this workgroup
  const uint kvh = h / (pc.n_heads / pc.n_kv_heads);
  const uint row8 = pc.n_kv_heads * HD / 8, kv_base = kvh * HD / 8;  // uvec4s per cache row, this head's first
  const uint pos0 = start_pos + tw;
  const uint L = min(pos0 + nw, pc.n_ctx);  // rows the workgroup's last token attends to

  for (uint i = tid; i < QW * (HD / 4); i += WG_SIZE) {
    const uint r = i / (HD / 4), d4 = i % (HD / 4);
    const vec4 v = r < nw ? q4[((tw + r) * pc.q_stride + h * HD) / 4 + d4] * pc.scale : vec4(0.0);
    Q_TILE[r * HP4 + d4] = f16vec4(v);
  }
  for (uint r = tid; r < QW * MAXP; r += WG_SIZE) {
    m_s[r] = kNoScore;
    l_s[r] = 0.0;
  }

  // This subgroup's block: its 16 queries, the rows they attend to.
  const uint b = gl_SubgroupID, lane = gl_SubgroupInvocationID, sgs = gl_SubgroupSize;
  const bool has_block = b < NSUB && 16 * b < nw;
  const uint nb = has_block ? min(16, nw - 16 * b) : 0;             // queries in the block
  const uint Lb = has_block ? min(pos0 + 16 * b + nb, pc.n_ctx) : 0;  // rows its last query attends to
  // Per-row work: lane takes rows r0, r0 + rstep, ... and their 4-column
  // groups part, part + lpr, ... (one row per lane from 16 lanes up, the
  // row's columns shared by lpr lanes).
  const uint lpr = sgs >= 16 ? min(MAXP, sgs / 16) : 1, part = sgs >= 16 ? lane / 16 : 0;
  const uint r0 = sgs >= 16 ? lane % 16 : lane, rstep = sgs >= 16 ? 16 : sgs;
  const bool row_lane = part < lpr;
  barrier();
  if (has_block) UNROLL for (uint df = 0; df < NDF; ++df) LOAD_Q(qa[df], 16 * b * HP4 + 4 * df);
  barrier();  // q read before the first chunk overwrites it

  // Every barrier below is a workgroup barrier reached by all invocations
  // (subgroups without a block too): lavapipe, at least, does not keep a
  // subgroup barrier to its subgroup.
  // Pass 1: each query row's largest score.
  fetch(0, L, kv_base, row8, false);
  for (uint c0 = 0; c0 < L; c0 += KT) {
    stash(false);
    barrier();
    if (c0 + KT < L) fetch(c0 + KT, L, kv_base, row8, false);  // in flight during this chunk
    const bool run = has_block && c0 < Lb;  // uniform in the subgroup
    if (run) scores(b, c0, Lb);
    barrier();
    if (run) {
      for (uint r = r0; row_lane && r < nb; r += rstep) {
        const uint last = pos0 + 16 * b + r;  // the row's position: it attends to rows <= last
        float m = m_s[(16 * b + r) * MAXP + part];
        for (uint j4 = part; j4 < KT / 4; j4 += lpr) {
          const vec4 v = vec4(ss[(16 * b + r) * SP + 4 * j4], ss[(16 * b + r) * SP + 4 * j4 + 1],
                              ss[(16 * b + r) * SP + 4 * j4 + 2], ss[(16 * b + r) * SP + 4 * j4 + 3]);
          UNROLL for (uint c = 0; c < 4; ++c)
            if (c0 + 4 * j4 + c <= last) m = max(m, v[c]);
        }
        m_s[(16 * b + r) * MAXP + part] = m;
      }
    }
    barrier();
  }

  // Pass 2: p = exp(s - m), l, O += P V.
  FRAG_C o[NDF];
  UNROLL for (uint df = 0; df < NDF; ++df) FRAG_ZERO(o[df]);
  fetch(0, L, kv_base, row8, true);
  for (uint c0 = 0; c0 < L; c0 += KT) {
    stash(true);
    barrier();
    if (c0 + KT < L) fetch(c0 + KT, L, kv_base, row8, true);
    const bool run = has_block && c0 < Lb;
    if (run) scores(b, c0, Lb);
    barrier();
    if (run) {
      for (uint r = r0; row_lane && r < 16; r += rstep) {
        const uint last = pos0 + 16 * b + r;
        float m = kNoScore;  // the row's maximum: its lanes' maxima (unused slots hold kNoScore)
        UNROLL for (uint p = 0; p < MAXP; ++p) m = max(m, m_s[(16 * b + r) * MAXP + p]);
        float l = 0.0;
        for (uint j4 = part; j4 < KT / 4; j4 += lpr) {
          vec4 p = vec4(0.0);
          UNROLL for (uint c = 0; c < 4; ++c) {
            const uint j = 4 * j4 + c;
            if (r < nb && c0 + j <= last) p[c] = exp(ss[(16 * b + r) * SP + j] - m);
          }
          const f16vec4 ph = f16vec4(p);
          ps[(16 * b + r) * PP4 + j4] = ph;
          l += dot(vec4(ph), vec4(1.0));
        }
        l_s[(16 * b + r) * MAXP + part] += l;
      }
    }
    barrier();
    if (run) {
      UNROLL for (uint jf = 0; jf < NJF; ++jf) {
        if (c0 + 16 * jf >= Lb) break;
        FRAG_A p;
        LOAD_P(p, 16 * b * PP4 + 4 * jf);
        UNROLL for (uint df = 0; df < NDF; ++df) {
          FRAG_B v;
          LOAD_V(v, (KT + 16 * jf) * HP4 + 4 * df);
          MMA_PV(o[df], p, v);
        }
      }
    }
    barrier();
  }

  // O / l out, 32 columns at a time through the block's score tile.
#ifdef QUANT_OUT
  const uint width = pc.n_heads * HD;  // 8-bit row width
#endif
  UNROLL for (uint df = 0; df < NDF; df += 2) {
    if (has_block) {
      STORE_S(o[df], 16 * b * SP);
      if (df + 1 < NDF) STORE_S(o[df + 1], 16 * b * SP + 16);
    }
    barrier();
    const uint cols = min(32, HD - 16 * df);
    for (uint r = lane; r < nb; r += sgs) {  // nb = 0 without a block
      float l = 0.0;  // the row's lanes' sums (unused slots hold 0)
      UNROLL for (uint p = 0; p < MAXP; ++p) l += l_s[(16 * b + r) * MAXP + p];
      const float inv_l = 1.0 / l;  // > 0: every row attends to row 0
      const uint t = tw + 16 * b + r;
      vec4 v[8];
      UNROLL for (uint i = 0; i < 8; ++i) {
        v[i] = i < cols / 4 ? vec4(ss[(16 * b + r) * SP + 4 * i], ss[(16 * b + r) * SP + 4 * i + 1],
                                   ss[(16 * b + r) * SP + 4 * i + 2], ss[(16 * b + r) * SP + 4 * i + 3]) * inv_l
                            : vec4(0.0);
        if (i < cols / 4) out4[(t * pc.out_stride + h * HD + 16 * df) / 4 + i] = v[i];
      }
#ifdef QUANT_OUT
      uvec4 lo, hi;
      vec2 dsv;
      quantize_block32(v, lo, hi, dsv);
      const uint gb = (h * HD + 16 * df) / 32;  // block index in the row
      const uint o8 = (t * width + gb * 32) / 16;
      xq[o8] = lo;
      xq[o8 + 1] = hi;
      ds[t * (width / 32) + gb] = dsv;
#endif
    }
    barrier();
  }
}
