// Kernel benchmarks behind `vkq bench copy|matmul`: GPU timestamps, warm-up,
// the median of many runs, and (matmul) a correctness check against the CPU
// reference on the same random data before anything is timed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "device.hpp"
#include "ops/matmul.hpp"

namespace vkq::bench {

struct CopyResult {
  uint64_t bytes = 0;     // buffer size copied per run
  double median_us = 0;   // of the faster method
  double gbps = 0;        // (read + write) bytes / time, the faster method
  double shader_us = 0, shader_gbps = 0;      // compute-shader copy (16-byte loads/stores)
  double transfer_us = 0, transfer_gbps = 0;  // vkCmdCopyBuffer
  int runs = 0;
};
// Copies a `bytes` buffer to another `runs` times with a compute shader and
// with vkCmdCopyBuffer (after a warm-up), and reports both.
CopyResult bench_copy(Device& device, uint64_t bytes = 0, int runs = 20);

struct MatmulOptions {
  GgmlType type = GgmlType::Q4_0;
  uint32_t m = 4096, k = 4096, n = 1;
  ops::ActType act = ops::ActType::f32;
  std::string variant;          // "" = the selector's choice
  ops::MatmulTuning tuning;
  int runs = 20;
  uint64_t rotate_bytes = 256ull << 20;  // weight copies rotated so caches cannot serve them
  uint64_t seed = 1;
  bool check = true;
  double copy_gbps = 0;         // from bench_copy in the same process (0 = run it)
  uint64_t copy_bytes = 0;      // buffer size for that copy (0 = bench_copy's default)
};

struct MatmulResult {
  std::string variant;
  std::string config;       // the variant's tile / workgroup size
  double max_rel_err = 0;   // max |y - ref| / max |ref| over checked outputs
  double tolerance = 0;
  uint32_t checked_rows = 0;
  double median_us = 0, min_us = 0;
  double gbps = 0;          // (weight + activation bytes) / time
  double tflops = 0;        // 2 m k n / time
  double copy_gbps = 0;
  double pct_of_copy = 0;
  uint64_t weight_bytes = 0;
  int copies = 0, runs = 0;
  bool passed() const { return max_rel_err <= tolerance; }
};
MatmulResult bench_matmul(Device& device, const MatmulOptions& opt);

// A chain of dependent memory-bound dispatches: `layers` repeats of one
// dispatch per entry of `bytes` (each reading that many bytes of its own,
// never-reused memory with read_stream.comp; 0 = a one-workgroup dispatch
// that reads nothing), a barrier between dispatches unless `barriers` is
// off. What a decode step's structure costs with perfect kernels: the bytes
// at the copy rate plus the fixed cost of each dependent dispatch.
struct ChainOptions {
  std::vector<uint64_t> bytes{0};
  uint32_t layers = 32;
  bool barriers = true;
  // Linked (barriers true): the dispatches are links of a dispatch chain
  // (CommandStream::begin_chain, read_stream_chain) instead of barriers:
  // each waits for every workgroup of the one before. replicas x spacing
  // words per flag (at most kChainFlagBytes / 4), backoff steps between
  // polls, early: the first load before the wait.
  bool linked = false;
  uint32_t replicas = 1, spacing = 32, backoff = 0;
  bool early = false;
  bool acquire_load = false;   // an acquire load after the polls (chain.glsl CHAIN_ACQUIRE_LOAD)
  // Persistent: the whole chain is one dispatch of `groups` workgroups (all
  // resident at once) that walk the entries in order with a grid-wide wait
  // between two (read_persist.comp); prefetch: each invocation's first
  // loads of the next entry issued before the wait (0..8).
  bool persistent = false;
  uint32_t prefetch = 0;
  uint32_t groups = 0;         // workgroups per dispatch, grid-stride (0: one load per invocation, up to 65535)
  uint32_t wg = 256;           // invocations per workgroup
  int runs = 5;                // timed chains (median reported)
  bool constant_fill = false;  // every word the same (compressible), not random bits
  double copy_gbps = 0;        // from bench_copy in the same process (0 = run it)
  uint64_t copy_bytes = 0;
};

struct ChainResult {
  uint32_t dispatches = 0;     // per chain
  uint32_t links = 0;          // linked: dispatches that wait on a flag instead of a barrier
  uint64_t bytes = 0;          // read per chain
  double median_us = 0;        // whole chain: host time from submit to fence, less submit_us
  double submit_us = 0;        // the same for one empty dispatch
  double timestamp_us = 0;     // GPU timestamps at the chain's ends (not trusted: see bench.cpp)
  double us_per_dispatch = 0;
  double copy_gbps = 0;
  double roofline_us = 0;      // bytes at the copy rate (as bench model's roofline counts)
  double roofline_share = 0;   // roofline_us / median_us
  // Per entry of `bytes`: median over the layers and runs of its span in a
  // second, separately timed chain with a timestamp after every dispatch.
  std::vector<double> entry_us;
  int runs = 0;
};
ChainResult bench_chain(Device& device, const ChainOptions& opt);

nlohmann::json to_json(const CopyResult& r);
nlohmann::json to_json(const ChainResult& r);
nlohmann::json to_json(const MatmulResult& r);

}  // namespace vkq::bench
