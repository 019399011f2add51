// Epilogue of the decode GEMV (matvec_idot.comp, one activation column):
// the SwiGLU that used to be a dispatch of its own, done by the GEMV's own
// workgroups once the outputs it needs are written.
//   EPI_SWIGLU: Y is the gate | up row (pc.rows = 2 * pc.epi_half rows, gate
//               rows 0 .. half-1, up rows half .. 2 half-1, half a multiple
//               of 32, ROWS dividing 32). Block b of h = silu(g) * u goes to
//               5 XQ / 6 DS in 8-bit blocks (quantize_block.glsl), written by
//               the last of the 2 * 32 / ROWS workgroups that wrote its gate
//               and up rows, so the work is spread over the dispatch.
// Arrival: each workgroup writes its rows, makes them visible
// (memoryBarrierBuffer on the coherent Y), then counts itself in
// 7 Count[b] (uints, zero between dispatches); the workgroup that brings the
// count to its total resets it, reads the rows back and does the block.
// (An RMSNorm epilogue, the last workgroup norming the whole residual, was
// measured slower than a separate dispatch on the H200: its one-workgroup
// tail is a chain of memory round trips; benchmarks/RESULTS.md.)
#include "quantize_block.glsl"

layout(std430, binding = 5) writeonly buffer EpiXQ { uvec4 epi_xq[]; };
layout(std430, binding = 6) writeonly buffer EpiDS { vec2 epi_ds[]; };
layout(std430, binding = 7) coherent buffer EpiCount { uint epi_count[]; };

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
