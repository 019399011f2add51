// `vkq bench model`: prefill and decode throughput of the Vulkan forward
// pass, like llama-bench's pp<N> / tg<N> (wall time of whole passes,
// repeated, median), decode's share of the bandwidth roofline, and where a
// decode step's and a prefill's time goes (GPU time per op from timestamps,
// and the rest: submit, wait, readback and gaps).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "vulkan_forward.hpp"

namespace vkq::bench {

struct ModelBenchOptions {
  uint32_t prompt = 512;  // pp: tokens prefilled in one call
  uint32_t gen = 128;     // tg: tokens decoded one at a time from an empty cache
  int reps = 3;
  uint64_t seed = 1;
  double copy_gbps = 0;   // bandwidth reference (bench copy in the same process); 0 = run it
  bool breakdown = true;  // one more decode run and prefill with per-op timestamps
  // Decode timed again with each op kind left out of every layer
  // (VulkanForward::set_decode_skip): host-timed per-op costs, which GPU
  // timestamps on some drivers do not give (they are shifted by an op).
  bool ablate = false;
};

struct OpTime {
  std::string op;       // "attn_qkv", "attention", ... (summed over layers)
  double us_per_token;  // GPU time
  uint32_t dispatches_per_token = 0;
};

struct ModelBenchResult {
  double prompt_tokens_per_s = 0, gen_tokens_per_s = 0;
  std::vector<double> prompt_runs, gen_runs;  // tokens/s of each repetition
  uint64_t weight_bytes_per_token = 0;
  double copy_gbps = 0;
  double roofline_tokens_per_s = 0;  // copy bandwidth / weight bytes per token
  double decode_roofline_share = 0;  // gen / roofline
  double decode_us_per_token = 0;    // wall time, from gen_tokens_per_s
  double gpu_us_per_token = 0;       // sum of op times (breakdown run)
  uint32_t dispatches_per_token = 0;
  uint32_t chained_per_token = 0;    // of them, linked by chain waits, no barrier (VulkanForwardOptions::chain)
  // With a chain: chained decode steps at a few positions against the same
  // steps unchained (VulkanForward::decode_unchained): the largest |logit
  // difference| over the largest |unchained logit|, and whether the top
  // token agreed at every position checked. chain_ok: both within
  // kChainTolerance (else the timings are of a wrong computation).
  uint32_t chain_checked = 0;
  double chain_max_rel_diff = 0;
  bool chain_same_top = true, chain_ok = true;
  static constexpr double kChainTolerance = 1e-2;
  std::vector<OpTime> ops;           // breakdown, largest first
  double prefill_gpu_us = 0;         // sum of op times of one prefill (breakdown run)
  std::vector<OpTime> prefill_ops;   // its breakdown, largest first; us_per_token holds µs per prefill
  std::string matmul_variant_decode, matmul_variant_prefill, attention_variant_prefill;
  // With ablate: µs per token that leaving each op kind out saved (its
  // dispatches and the barriers after them), against ablation_base_us
  // measured in the same pass; ablation_rest_us = base - their sum (embed,
  // unfused norms, the head, submit and wait).
  std::vector<OpTime> ablation;
  double ablation_base_us = 0, ablation_rest_us = 0;
};

ModelBenchResult bench_model(VulkanForward& fwd, const ModelBenchOptions& opt);
nlohmann::json to_json(const ModelBenchResult& r);

}  // namespace vkq::bench
