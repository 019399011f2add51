#version 450
// `vkq bench chain --persistent`: a whole chain of reads in ONE dispatch of
// pc.groups workgroups (all resident at once), which walk the chain's
// stages in order, each reading a grid-stride share of stage s's uvec4s and
// then meeting the others in a grid-wide wait (every workgroup counts
// itself in stage s's counter and waits until all have) before stage s + 1.
// What a persistent decode kernel (one launch per token, a wait between
// dependent ops instead of a barrier and a new dispatch) could reach with
// perfect memory-bound ops. PREFETCH > 0: each invocation issues its first
// PREFETCH loads of stage s + 1 after counting itself and before the wait
// (a GEMV's weights do not depend on the op before it; only its input
// vector does), so the memory keeps streaming while the grid waits.
// A wait that spins past pc.spin_limit polls (workgroups not all resident:
// the wait could never end) sets the abort word, and every workgroup
// returns: the host reports it instead of hanging the GPU.
// Bindings: 0-7 the source buffers (stage.x picks one), 8 the stages
// (uvec4: buffer, first uvec4, count, 0), 9 flags (word 0 abort; stage s's
// count at word 32 (s + 1); zero before the dispatch), 10 dst (one word,
// written only if the sum hits a value random bits never give).
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_memory_scope_semantics : require
#define VKQ_PC_READ_PERSIST
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint PREFETCH = 0;  // loads of the next stage per invocation before the wait (0..8)

layout(std430, binding = 0) readonly buffer S0 { uvec4 s0[]; };
layout(std430, binding = 1) readonly buffer S1 { uvec4 s1[]; };
layout(std430, binding = 2) readonly buffer S2 { uvec4 s2[]; };
layout(std430, binding = 3) readonly buffer S3 { uvec4 s3[]; };
layout(std430, binding = 4) readonly buffer S4 { uvec4 s4[]; };
layout(std430, binding = 5) readonly buffer S5 { uvec4 s5[]; };
layout(std430, binding = 6) readonly buffer S6 { uvec4 s6[]; };
layout(std430, binding = 7) readonly buffer S7 { uvec4 s7[]; };
layout(std430, binding = 8) readonly buffer Stages { uvec4 stages[]; };
layout(std430, binding = 9) coherent buffer Flags { uint flags[]; };
layout(std430, binding = 10) writeonly buffer Dst { uint dst[]; };

shared bool stop;

uvec4 load(uint b, uint i) {
  switch (b) {
    case 0u: return s0[i];
    case 1u: return s1[i];
    case 2u: return s2[i];
    case 3u: return s3[i];
    case 4u: return s4[i];
    case 5u: return s5[i];
    case 6u: return s6[i];
    default: return s7[i];
  }
}

void main() {
  const uint t = gl_LocalInvocationIndex, gid = gl_GlobalInvocationID.x;
  const uint groups = gl_NumWorkGroups.x, stride = groups * gl_WorkGroupSize.x;
  const uint n_stages = pc.n_stages;
  uvec4 acc = uvec4(0);
  uvec4 pf[PREFETCH > 0u ? PREFETCH : 1u];
  // The stage being read and the next (loaded a stage ahead: no table in
  // shared memory, which would limit the workgroups per SM).
  uvec4 st = stages[0], nx = n_stages > 1u ? stages[1] : uvec4(0);
  for (uint s = 0; s < n_stages; ++s) {
    if (s > 0u) {
      st = nx;
      nx = s + 1u < n_stages ? stages[s + 1u] : uvec4(0);
    }
    uint i = gid;
    if (s > 0u)  // the loads issued before the last wait
      for (uint p = 0; p < PREFETCH; ++p, i += stride)
        if (i < st.z) acc += pf[p];
    for (; i < st.z; i += stride) acc += load(st.x, st.y + i);
    if (s + 1u == n_stages) break;
    // Count this workgroup in stage s (a release, as a producer's), then
    // the next stage's first loads, then the wait (the acquire).
    const uint word = 32u * (s + 1u);
    controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                   gl_SemanticsAcquireRelease);
    if (t == 0u) {
      memoryBarrier(gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
      atomicAdd(flags[word], 1u, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelaxed);
    }
    for (uint p = 0; p < PREFETCH; ++p) {
      const uint j = gid + p * stride;
      if (j < nx.z) pf[p] = load(nx.x, nx.y + j);
    }
    if (t == 0u) {
      bool abort = false;
      uint polls = 0;
      while (atomicLoad(flags[word], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelaxed) < groups) {
        if ((++polls & 1023u) == 0u &&
            (polls > pc.spin_limit ||
             atomicLoad(flags[0], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelaxed) != 0u)) {
          abort = true;
          atomicStore(flags[0], 1u, gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelaxed);
          break;
        }
      }
      stop = abort;
    }
    controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                   gl_SemanticsAcquireRelease);
    if (stop) return;
  }
  if (acc.x + acc.y + acc.z + acc.w == 0x9e3779b9u) dst[0] = acc.x;
}
