// Will this model, at this precision and context, fit on this device?
//
// The memory fit model is the Vulkan forward pass's own allocation plan
// (runtime/forward_plan.hpp: every buffer VulkanForward allocates, by name,
// with the chunking a device's maxStorageBufferRange / maxMemoryAllocationSize
// imposes), grouped into components, plus what vkq cannot see from its own
// allocations (the driver's context, pipelines and descriptor pools: a stated
// reserve), set against the device's memory (VK_EXT_memory_budget's budget of
// the device-local heaps where present, else their size) or a hypothetical
// size.
//
//   raw lower bound   weights at the type's nominal bits (4 for Q4_0/Q4_1,
//                     8 for Q8_0, 16 for F16/BF16, 32 for F32), no scales
//   weights           exact bytes per tensor after the GPU repack (Q4_0: 4.5
//                     bits per weight with its fp16 scale per 32)
//   kv_cache          layers x 2 x n_kv_heads x head_dim x ctx x bytes per element
//   activations       the forward pass's buffers for `batch` tokens
//   scratch, io       quantized-activation scratch, step/token/readback buffers
//   staging           the largest upload staging buffer (discrete GPUs)
//   reserve           driver context, pipelines, descriptors (not allocated by vkq)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "device_caps.hpp"
#include "forward_plan.hpp"

namespace vkq::eval {

struct FitOptions {
  uint32_t ctx = 0;     // 0: the model's context length
  uint32_t batch = 512; // tokens per prefill pass (activations)
  ops::KvType kv = ops::KvType::f16;
  bool force = false;   // allow a context beyond the model's trained one (warned)
};

struct FitComponent {
  std::string name;  // "weights", "kv_cache", "activations", "scratch", "io", "staging", "reserve"
  uint64_t bytes = 0;
};

struct FitResult {
  std::string target;          // device name, or "memory <SIZE>"
  uint32_t ctx = 0, batch = 0;
  ops::KvType kv = ops::KvType::f16;
  uint64_t params = 0;         // matrix weights (norms excluded)
  double nominal_bits = 0;     // of the dominant weight type
  uint64_t raw_weight_bytes = 0;  // params at their types' nominal bits
  std::vector<FitComponent> components;
  uint64_t total = 0;          // sum of the components
  uint64_t budget = 0;         // what the device offers
  std::string budget_source;   // "memory budget", "heap size", "--memory"
  int64_t headroom = 0;        // budget - total
  bool fits = false;
  uint32_t layers_that_fit = 0;  // when it does not fit: how many layers would (weights + KV), as a guide
  uint32_t max_ctx = 0;        // largest context (<= the model's, or the asked one with force) that fits; 0: none
  uint32_t split_tensors = 0;  // matrices split into several buffers by the device's limits
  std::vector<std::string> warnings;

  std::string verdict() const;  // "fits", "does not fit", "fits only with N of L layers"
  uint64_t component(const std::string& name) const;
};

// The reserve vkq assumes for driver-side memory it does not allocate itself.
uint64_t driver_reserve_bytes(const DeviceCaps& caps);

// Nominal bits per weight of a type (the raw lower bound's unit).
double nominal_bits(GgmlType t);

// The device's memory for the model: the device-local heaps' budget (or
// size), or `memory` when given.
FitResult fit_model(const LlamaGpuLayout& layout, const DeviceCaps& caps, const FitOptions& opt,
                    std::optional<uint64_t> memory = std::nullopt);

// Caps of a hypothetical device of `memory` bytes (`vkq fit --memory`):
// discrete, no buffer-range limit below 4 GiB.
DeviceCaps hypothetical_device(uint64_t memory);

// "24GiB", "24 GB", "1.5T", "8000M", "123456" (bytes): binary units for
// K/M/G/T with or without "i"/"iB", decimal for "KB"/"MB"/"GB"/"TB".
// InputError for anything else.
uint64_t parse_memory_size(const std::string& s);

nlohmann::json to_json(const FitResult& r);

}  // namespace vkq::eval
