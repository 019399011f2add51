// Dispatch chains (CHAIN defined; runtime/command_stream.hpp, "chains"):
// consecutive dependent decode dispatches with no pipeline barrier between
// them. Each workgroup counts itself in chain_flags[pc.signal_flag] once its
// writes are done; a consumer's workgroup waits in chain_wait() until
// chain_flags[pc.wait_flag] reaches pc.wait_count (every workgroup of the
// dispatch before it; 0: no wait, a barrier was recorded), so it can issue
// its weight loads first, while the producer still runs. What a consumer
// reads after the wait, and what a producer writes, is declared CHAIN_IO
// (coherent: not served from a non-coherent cache). Needs pc.wait_flag,
// pc.wait_count, pc.signal_flag and CHAIN_BINDING.
// Progress relies on the device starting a dispatch's workgroups only after
// every workgroup of the dispatches before it has started (in-order
// launch), which the Vulkan spec does not promise: the host turns chains on
// only where that was measured (VulkanForwardOptions::chain).
#ifdef CHAIN
layout(std430, binding = CHAIN_BINDING) coherent volatile buffer ChainFlags { uint chain_flags[]; };
#define CHAIN_IO coherent
#else
#define CHAIN_IO
#endif

// Every invocation of the workgroup. Each one reads the count itself and
// then fences, so that its own loads after the wait are ordered after the
// producer's writes. (One invocation spinning, then barrier(), does not
// order the others' buffer loads: glslang's barrier() is an
// OpControlBarrier whose memory semantics name workgroup memory only, so a
// compiler may schedule the others' loads of the producer's output before
// it.)
void chain_wait() {
#ifdef CHAIN
  if (pc.wait_count != 0u) {
    while (chain_flags[pc.wait_flag] < pc.wait_count) {
    }
    memoryBarrierBuffer();
  }
#endif
}

// One invocation, once per workgroup, after the workgroup's writes (each
// writer's memoryBarrierBuffer() and a barrier() before, or its own writes).
void chain_signal() {
#ifdef CHAIN
  memoryBarrierBuffer();
  atomicAdd(chain_flags[pc.signal_flag], 1u);
#endif
}
