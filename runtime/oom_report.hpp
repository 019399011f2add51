// What a DeviceError for device memory carries up to the CLI: the fit table
// (what was planned, what the device has, what vkq held when the allocation
// failed) and a suggestion derived from it. Device::allocate fills the
// device side; the code that planned the allocations (VulkanForward, from
// its ForwardPlan) adds the plan as the error passes through, so every
// command that builds a forward pass (run, bench model, and the quantizer's
// calibration and the scorecard through open_llama_session) prints it with
// no code of its own. tools/main.cpp prints it under the error line.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "device_caps.hpp"

namespace vkq {

struct ForwardPlan;

struct OomReport {
  std::string device;                 // the device's name
  uint64_t requested = 0;             // bytes of the allocation that failed
  uint32_t heap = 0;                  // the heap it was for
  uint64_t max_allocation = 0;        // maxMemoryAllocationSize
  uint64_t allocated = 0;             // vkq's device memory on this device when it failed
  std::vector<MemoryHeapInfo> heaps;  // size; budget and usage where VK_EXT_memory_budget says (at failure)

  // What was being built, where a planner said so.
  std::string plan;                                       // e.g. "llama forward pass: n_ctx 512, batch 512, kv f16"
  std::vector<std::pair<std::string, uint64_t>> planned;  // component -> bytes, in plan order
  uint64_t planned_peak = 0;                              // every component plus upload staging

  // The table, one line each, no trailing newline, indented by the caller.
  std::vector<std::string> table() const;
  // What to try: a smaller context, another weight type or another device,
  // picked from the figures (what does not fit where).
  std::string suggestion() const;
  // Memory the failing heap can give vkq: the budget where known, else its size.
  uint64_t heap_capacity() const;
};

// Records `plan` (its components and peak) in `r`.
void add_forward_plan(OomReport& r, const ForwardPlan& plan);

}  // namespace vkq
