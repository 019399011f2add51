// Epilogues of the decode GEMV (matvec_idot.comp, one activation column):
// work that used to be the next dispatch, done by the GEMV's own workgroups
// once the outputs it needs are written, so a decode step has no separate
// RMSNorm or SwiGLU dispatch (each cost about as much as its launch and the
// barrier after it).
//
// Both count finished workgroups in Count (uints, zero between dispatches;
// whoever completes a count resets it): each workgroup writes its outputs,
// makes them visible (memoryBarrierBuffer on the coherent Y), then counts
// itself; the workgroup that brings a count to its total reads the outputs
// back and does the epilogue.
//   EPI_NORM:   Y is the residual row x (pc.rows wide, a multiple of 32, at
//               pc.row0). The last of all workgroups (its first subgroup)
//               writes rmsnorm(x) * w
//               (w = 8 NormW, eps = pc.eps) to 5 XQ / 6 DS in 8-bit blocks
//               (quantize_block.glsl), for the next matmul. Count[0].
//   EPI_SWIGLU: Y is the gate | up row (pc.rows = 2 * pc.epi_half rows, gate rows
//               0 .. half-1, up rows half .. 2 half-1, half a multiple of
//               32, ROWS dividing 32). Block b of h = silu(g) * u is done by
//               the last of the 2 * 32 / ROWS workgroups that wrote its gate
//               and up rows, so the epilogue is spread over the dispatch.
//               Count[b].
// XQ / DS may be the buffer the GEMV read its own activations from
// (EPI_NORM): only the last workgroup writes them, after every workgroup
// has counted itself, i.e. has finished reading.
#include "quantize_block.glsl"

layout(std430, binding = 5) writeonly buffer EpiXQ { uvec4 epi_xq[]; };
layout(std430, binding = 6) writeonly buffer EpiDS { vec2 epi_ds[]; };
layout(std430, binding = 7) coherent buffer EpiCount { uint epi_count[]; };
#ifdef EPI_NORM
layout(std430, binding = 8) readonly buffer NormW { float norm_w[]; };
#endif

// Counts this workgroup in epi_count[slot] (by the invocation that wrote
// its rows: subgroup 0's first); true in subgroup 0 of the workgroup that
// completes `total`, which also resets the count. Other subgroups get false
// and are done: no workgroup barrier, which every workgroup would pay.
bool epi_arrive(uint slot, uint total) {
  if (gl_SubgroupID != 0u) return false;
  uint last = 0u;
  if (subgroupElect()) {
    memoryBarrierBuffer();
    last = atomicAdd(epi_count[slot], 1u) == total - 1u ? 1u : 0u;
    if (last != 0u) epi_count[slot] = 0u;
  }
  if (subgroupMax(last) == 0u) return false;
  memoryBarrierBuffer();
  return true;
}

void epi_store_block(uint b, const vec4 v[8]) {
  uvec4 lo, hi;
  vec2 dsv;
  quantize_block32(v, lo, hi, dsv);
  epi_xq[2u * b] = lo;
  epi_xq[2u * b + 1u] = hi;
  epi_ds[b] = dsv;
}

#ifdef EPI_NORM
void gemv_epilogue(uint r0) {
  if (!epi_arrive(0u, (pc.rows + ROWS - 1u) / ROWS)) return;
  // One subgroup: lane l sums elements l, l + lanes, ... (loads in batches
  // of 8, issued before they are used), then the blocks l, l + lanes, ...
  const uint lane = gl_SubgroupInvocationID, lanes = gl_SubgroupSize, width = pc.rows, blocks = width / 32u;
  float ss = 0.0;
  for (uint i0 = lane; i0 < width; i0 += 8u * lanes) {
    float v[8];
    for (uint u = 0; u < 8u; ++u) v[u] = i0 + u * lanes < width ? y[pc.row0 + i0 + u * lanes] : 0.0;
    for (uint u = 0; u < 8u; ++u) ss += v[u] * v[u];
  }
  const float scale = inversesqrt(subgroupAdd(ss) / float(width) + pc.eps);
  for (uint b = lane; b < blocks; b += lanes) {
    vec4 v[8];
    for (uint i = 0; i < 8u; ++i) {
      const uint k = b * 32u + 4u * i;
      v[i] = vec4(y[pc.row0 + k], y[pc.row0 + k + 1u], y[pc.row0 + k + 2u], y[pc.row0 + k + 3u]) * scale *
             vec4(norm_w[k], norm_w[k + 1u], norm_w[k + 2u], norm_w[k + 3u]);
    }
    epi_store_block(b, v);
  }
}
#endif

#ifdef EPI_SWIGLU
void gemv_epilogue(uint r0) {
  const uint b = (r0 < pc.epi_half ? r0 : r0 - pc.epi_half) / 32u;
  if (!epi_arrive(b, 2u * (32u / ROWS))) return;
  if (!subgroupElect()) return;
  vec4 v[8];
  for (uint i = 0; i < 8u; ++i) {
    for (uint c = 0; c < 4u; ++c) {
      const uint k = pc.row0 + b * 32u + 4u * i + c;
      const float g = y[k], u = y[k + pc.epi_half];
      v[i][c] = g / (1.0 + exp(-g)) * u;  // as swiglu.comp
    }
  }
  epi_store_block(b, v);
}
#endif
