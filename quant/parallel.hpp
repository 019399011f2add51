// A small fork-join loop for the quantizer's CPU work (calibration forward
// passes, Gram matrices, GPTQ row slices). Work items are fixed by the
// caller, never by the thread count, and each writes only its own outputs,
// so results are the same bit for bit with 1 thread or 64.
#pragma once

#include <cstddef>
#include <functional>

namespace vkq::quant {

// Worker threads for `requested` (0 = the machine's hardware threads).
unsigned worker_count(unsigned requested);

// Calls fn(i) once for every i in [0, n) on up to `threads` threads (0 =
// all hardware threads), items handed out in order. The first exception a
// call throws is rethrown here after every worker has stopped.
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& fn);

}  // namespace vkq::quant
