// libFuzzer target for the Hugging Face config.json reader
// (runtime/model_configs.hpp: `vkq synth CONFIG`, `vkq bench model
// --synthetic`, `vkq fit`). Refused with InputError, or accepted; an
// accepted config
//   - has hyperparameters validate_llama_hparams() accepts;
//   - gives llama3 rope factors, one per rotated pair, all finite and positive;
//   - plans a forward pass (the synthetic layout at its shapes, Q4_0, a
//     context of at most 4096) whose weights are at least the parameters at
//     4.5 bits each: no size wrapped around.
// Seeds: tests/fuzz/corpus/hf_config/ (published configs, trimmed).
#include <algorithm>
#include <cmath>
#include <string>

#include "device_caps.hpp"
#include "error.hpp"
#include "forward_plan.hpp"
#include "fuzz/fuzz_target.hpp"
#include "model_configs.hpp"

VKQ_FUZZ_TARGET(hf_config) {
  using namespace vkq;
  ModelConfig m;
  try {
    m = parse_hf_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz/config.json");
  } catch (const InputError&) {
    return;
  }
  validate_llama_hparams(m.hp, "accepted config");  // throws: a finding
  const auto& hp = m.hp;
  if (m.rope_scaling) {
    const auto f = m.rope_freqs();
    expect(f.size() == hp.head_dim() / 2, "one rope factor per rotated pair");
    for (const float x : f) expect(std::isfinite(x) && x > 0, "rope factors finite and positive");
  }
  // Planning makes a few buffers per layer and per 4 GiB of a matrix: keep
  // to configs of a sane size (a 70B model has 256 times fewer parameters).
  if (hp.block_count > 256) return;
  const auto layout = llama_gpu_layout(hp, GgmlType::Q4_0, m.tied_embeddings, m.rope_freqs());
  long double params = 0;
  for (const auto* mat : layout.all_matrices()) params += static_cast<long double>(mat->rows) * mat->cols;
  if (params > 0x1p44L) return;
  DeviceCaps caps;
  caps.device_type = "discrete";
  caps.max_storage_buffer_range = 0xffffffffu;
  caps.max_memory_allocation_size = 1ull << 40;
  try {
    const auto plan = plan_forward(layout, caps, {.n_ctx = std::min<uint32_t>(hp.context_length, 4096)});
    expect(static_cast<long double>(plan.component_bytes("weights")) >= params * 4.5L / 8 * 0.999L,
           "the planned weights hold every parameter (no size wrapped around)");
  } catch (const InputError&) {
    // Shapes Q4_0 cannot hold (rows that are not whole blocks): refused.
  }
}
