#version 450
// Reads n uvec4s (grid-stride, 16 bytes per invocation per step) and writes
// nothing unless their sum hits a value the fill never produces: the loads
// cannot be dropped. `vkq bench chain` chains these to measure what a decode
// step's structure costs with perfect memory-bound kernels (bytes read per
// dispatch at the copy rate, plus each dependent dispatch's fixed cost).
// n = 0: a workgroup that loads nothing (the cost of the dispatch alone).
// Bindings: 0 src[n] uvec4, 1 dst uint (one word).
// CHAIN (read_stream_chain, `bench chain --linked`): the dispatches are
// links of a dispatch chain (common/chain.glsl) instead of being ordered by
// barriers; binding 2 the flags. Specialization constants 1-5: the flag's
// replicas and the words between them, the backoff steps between polls,
// EARLY (1: the first load issued before the wait, as the chain GEMVs
// issue their first weight loads) and CHAIN_ACQUIRE_LOAD.
#extension GL_GOOGLE_include_directive : require
#ifdef CHAIN
#define VKQ_PC_READ_CHAIN
#else
#define VKQ_PC_ELEMENTWISE
#endif
#include "push_constants.h"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer Src { uvec4 src[]; };
layout(std430, binding = 1) writeonly buffer Dst { uint dst[]; };
#ifdef CHAIN
layout(constant_id = 1) const uint kReplicas = 1u;
layout(constant_id = 2) const uint kSpacing = 1u;
layout(constant_id = 3) const uint kBackoff = 0u;
layout(constant_id = 4) const uint kEarly = 0u;
layout(constant_id = 5) const uint kAcquireLoad = 0u;
#define CHAIN_REPLICAS kReplicas
#define CHAIN_ACQUIRE_LOAD kAcquireLoad
#define CHAIN_SPACING kSpacing
#define CHAIN_BACKOFF kBackoff
#define CHAIN_BINDING 2
#endif
#include "chain.glsl"

void main() {
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  uvec4 acc = uvec4(0);
  uint i = gl_GlobalInvocationID.x;
#ifdef CHAIN
  if (kEarly != 0u && i < pc.n) {
    acc = src[i];
    i += stride;
  }
  chain_wait();
#endif
  for (; i < pc.n; i += stride) acc += src[i];
  if (acc.x + acc.y + acc.z + acc.w == 0x9e3779b9u) dst[0] = acc.x;
#ifdef CHAIN
  CHAIN_PUBLISH();
  if (gl_LocalInvocationIndex == 0u) chain_signal();
#endif
}
