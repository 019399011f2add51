#include "oom_report.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "forward_plan.hpp"

namespace vkq {

uint64_t OomReport::heap_capacity() const {
  if (heap >= heaps.size()) return 0;
  const auto& h = heaps[heap];
  return h.budget ? h.budget : h.size;
}

std::vector<std::string> OomReport::table() const {
  std::vector<std::string> out;
  out.push_back(fmt::format("memory fit on '{}':", device));
  if (planned.empty()) {
    out.push_back("  planned: (this command made no memory plan)");
  } else {
    out.push_back(fmt::format("  planned: {}", plan));
    for (const auto& [what, bytes] : planned) out.push_back(fmt::format("    {:<22} {:>12}", what, format_bytes(bytes)));
    out.push_back(fmt::format("    {:<22} {:>12}", "total", format_bytes(planned_peak)));
  }
  out.push_back("  device:");
  for (size_t i = 0; i < heaps.size(); ++i) {
    const auto& h = heaps[i];
    std::string line = fmt::format("    heap {}{:<15} {:>12}", i, h.device_local ? " (device-local)" : " (host)",
                                   format_bytes(h.size));
    if (h.budget) line += fmt::format(", budget {}, in use {}", format_bytes(h.budget), format_bytes(h.usage));
    if (i == heap) line += "   <- the failed allocation's heap";
    out.push_back(std::move(line));
  }
  out.push_back(fmt::format("    {:<22} {:>12}", "maxMemoryAllocationSize", format_bytes(max_allocation)));
  out.push_back(fmt::format("    {:<22} {:>12} when a request for {} failed", "vkq had allocated", format_bytes(allocated),
                            format_bytes(requested)));
  return out;
}

std::string OomReport::suggestion() const {
  const uint64_t cap = heap_capacity();
  if (max_allocation && requested > max_allocation)
    return fmt::format("one buffer of {} is above the device's maxMemoryAllocationSize {}: use a smaller context or "
                       "another weight type (smaller buffers), or another device (--device)",
                       format_bytes(requested), format_bytes(max_allocation));
  if (planned.empty())
    return fmt::format("the device could not give {} more (heap {}: {} usable): use a smaller size, or another "
                       "device (--device; `vkq devices` lists them)",
                       format_bytes(requested), heap, format_bytes(cap));
  uint64_t weights = 0, kv = 0;
  for (const auto& [what, bytes] : planned) {
    if (what == "weights") weights = bytes;
    if (what == "kv_cache") kv = bytes;
  }
  if (cap && weights > cap)
    return fmt::format("the weights alone need {}, more than the {} heap {} offers: use a smaller weight type "
                       "(q4_0 or q4_1 take about 4.5-5 bits per weight, q8_0 8.5) or another device (--device)",
                       format_bytes(weights), format_bytes(cap), heap);
  if (cap && planned_peak > cap)
    return fmt::format("the weights ({}) fit but the whole plan ({}) does not fit in the {} heap {} offers: use a "
                       "smaller context (the KV cache takes {}; it scales with n_ctx), another weight type, or "
                       "another device (--device)",
                       format_bytes(weights), format_bytes(planned_peak), format_bytes(cap), heap, format_bytes(kv));
  return fmt::format("the plan ({}) is within the {} heap {} offers, yet the driver refused {}: other programs may "
                     "hold device memory, or the driver needs more than vkq plans for; close them, or use a smaller "
                     "context, another weight type, or another device (--device; `vkq fit` says what fits where)",
                     format_bytes(planned_peak), format_bytes(cap), heap, format_bytes(requested));
}

void add_forward_plan(OomReport& r, const ForwardPlan& plan) {
  r.plan = fmt::format("llama forward pass: n_ctx {}, batch {}, kv {}", plan.config.n_ctx, plan.config.max_batch,
                       ops::kv_type_name(plan.config.kv));
  r.planned.clear();
  for (const auto& b : plan.buffers) {
    const auto it = std::find_if(r.planned.begin(), r.planned.end(), [&](const auto& p) { return p.first == b.component; });
    if (it == r.planned.end()) r.planned.emplace_back(b.component, b.bytes);
    else it->second += b.bytes;
  }
  if (plan.staging_bytes) r.planned.emplace_back("staging", plan.staging_bytes);  // the largest upload at once
  r.planned_peak = plan.peak_bytes();
}

}  // namespace vkq
