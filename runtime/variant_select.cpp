#include "variant_select.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

std::vector<std::string> op_variants(const ShaderRegistry& registry, const std::string& op) {
  std::vector<std::string> out;
  for (const auto& v : registry.all())
    if (v.name == op || v.name.rfind(op + "_", 0) == 0) out.push_back(v.name);
  return out;
}

std::string select_variant(const Device& device, const std::string& op, const std::string& forced) {
  const auto candidates = op_variants(device.shaders(), op);
  if (candidates.empty()) throw InputError(fmt::format("no shader variants for op '{}'", op));
  if (!forced.empty()) {
    if (std::find(candidates.begin(), candidates.end(), forced) == candidates.end())
      throw InputError(fmt::format("'{}' is not a variant of op '{}' (variants: {})", forced, op, fmt::join(candidates, ", ")));
    const auto miss = ShaderRegistry::missing_features(device.shaders().get(forced), device.caps());
    if (!miss.empty())
      throw DeviceError(fmt::format("device '{}' cannot run variant '{}': needs {}", device.caps().name, forced, miss));
    device.log().debug(fmt::format("op {}: variant {} (forced)", op, forced));
    return forced;
  }
  const auto& v = device.shaders().select(candidates, device.caps());
  device.log().debug(fmt::format("op {}: variant {} on '{}'", op, v.name, device.caps().name));
  return v.name;
}

uint32_t pick_workgroup_size(const DeviceCaps& caps, uint32_t want, uint32_t shared_bytes_per_invocation) {
  uint32_t limit = std::min(caps.max_workgroup_invocations, caps.max_workgroup_size[0]);
  if (shared_bytes_per_invocation) limit = std::min(limit, caps.max_shared_memory / shared_bytes_per_invocation);
  uint32_t n = 1;
  while (n * 2 <= std::min(want, limit)) n *= 2;
  return n;
}

}  // namespace vkq
