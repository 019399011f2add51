// Dispatch chains (CHAIN defined; runtime/command_stream.hpp, "chains"):
// consecutive dependent decode dispatches with no pipeline barrier between
// them. Each workgroup counts itself in flag pc.signal_flag once its
// writes are done (a release); a consumer's workgroup waits in chain_wait()
// until flag pc.wait_flag reaches pc.wait_count (every workgroup of
// the dispatch before it; 0: no wait, a barrier was recorded), so it can
// issue its weight loads first, while the producer still runs. What a
// consumer reads after the wait, and what a producer writes, is declared
// CHAIN_IO (coherent). Needs pc.wait_flag, pc.wait_count, pc.signal_flag
// and CHAIN_BINDING.
// The ordering is by acquire/release atomics and control barriers with
// buffer semantics (GL_KHR_memory_scope_semantics, in the GLSL450 memory
// model). The first form, volatile polling and memoryBarrierBuffer() around
// plain barrier()s, computed wrong logits on the H200 (RESULTS.md, calls 32, 36-38).
// Correct, the chain was slower there than barriers (call 40), so it is off
// unless asked for.
// Progress relies on the device starting a dispatch's workgroups only after
// every workgroup of the dispatches before it has started (in-order
// launch), which the Vulkan spec does not promise.
#ifdef CHAIN
#extension GL_KHR_memory_scope_semantics : require
layout(std430, binding = CHAIN_BINDING) coherent buffer ChainFlags { uint chain_flags[]; };
// A flag is CHAIN_REPLICAS counters CHAIN_SPACING words apart, every
// producer workgroup adding 1 to each and a consumer workgroup polling one
// of them (its id modulo the replicas). Decode's chain: one counter per
// flag, each flag on a 128-byte line of its own. 8 counters on lines of
// their own were slower on the H200 (`bench chain --linked`: the
// producers' extra atomics cost more than the polling of one line did;
// RESULTS.md, session of 2026-12-07). CHAIN_REPLICAS x CHAIN_SPACING words
// fit the host's kChainFlagBytes (runtime/command_stream.hpp).
#ifndef CHAIN_REPLICAS
#define CHAIN_REPLICAS 1u
#endif
#ifndef CHAIN_SPACING
#define CHAIN_SPACING 32u
#endif
// CHAIN_ACQUIRE_LOAD 1: after the relaxed polls an acquire load of the
// counter (one more round trip to L2), the first correct form; 0: the
// control barrier after the polls is the acquire (at device scope, a fence
// after the relaxed load that read the producers' count).
#ifndef CHAIN_ACQUIRE_LOAD
#define CHAIN_ACQUIRE_LOAD 0u
#endif
uint chain_word(uint flag, uint replica) { return (flag * CHAIN_REPLICAS + replica) * CHAIN_SPACING; }
#define CHAIN_IO coherent
// Before chain_signal(), in every invocation (uniform control flow): the
// workgroup's buffer writes ordered before the signal.
#define CHAIN_PUBLISH() \
  controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared, gl_SemanticsAcquireRelease)
#else
#define CHAIN_IO
#define CHAIN_PUBLISH()
#endif

// Every invocation of the workgroup, in uniform control flow. One
// invocation polls the count (hundreds of workgroups polling with every
// subgroup would crowd the L2 line the producer's workgroups add to); the
// control barrier after it, with buffer semantics at device scope, is the
// acquire and orders every invocation's loads after it.
void chain_wait() {
#ifdef CHAIN
  if (pc.wait_count != 0u) {
    if (gl_LocalInvocationIndex == 0u) {
      const uint wg = gl_WorkGroupID.x + gl_NumWorkGroups.x * (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z);
      const uint word = chain_word(pc.wait_flag, wg % CHAIN_REPLICAS);
#ifdef CHAIN_BACKOFF
      // CHAIN_BACKOFF dependent integer steps between polls, whose result
      // takes part in picking the word polled, so the compiler cannot drop
      // them; never another word: a link's signal flag is never its wait
      // flag (the one before's), which the compiler cannot know.
      uint spin = wg;
      while (atomicLoad(chain_flags[word + uint(spin == 0u && pc.signal_flag == pc.wait_flag)], gl_ScopeDevice,
                        gl_StorageSemanticsBuffer, gl_SemanticsRelaxed) < pc.wait_count) {
        for (uint i = 0u; i < CHAIN_BACKOFF; ++i) spin = spin * 1664525u + 1013904223u;
      }
#else
      while (atomicLoad(chain_flags[word], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelaxed) <
             pc.wait_count) {
      }
#endif
      if (CHAIN_ACQUIRE_LOAD != 0u)
        atomicLoad(chain_flags[word], gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsAcquire);
    }
    // Acquire (invocation 0's relaxed load read the count that every
    // producer's release fence came before) and release to the workgroup:
    // the other invocations' loads are ordered after it (glslang's
    // barrier() names workgroup memory only).
    controlBarrier(gl_ScopeWorkgroup, gl_ScopeDevice, gl_StorageSemanticsBuffer | gl_StorageSemanticsShared,
                   gl_SemanticsAcquireRelease);
  }
#endif
}

// One invocation, once per workgroup, after the workgroup's writes and a
// CHAIN_PUBLISH() (or after its own writes): a release fence, then one add
// to each replica of the flag (issued back to back, none waited on).
void chain_signal() {
#ifdef CHAIN
  memoryBarrier(gl_ScopeDevice, gl_StorageSemanticsBuffer, gl_SemanticsRelease);
  for (uint r = 0u; r < CHAIN_REPLICAS; ++r)
    atomicAdd(chain_flags[chain_word(pc.signal_flag, r)], 1u, gl_ScopeDevice, gl_StorageSemanticsBuffer,
              gl_SemanticsRelaxed);
#endif
}
