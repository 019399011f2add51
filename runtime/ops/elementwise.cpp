#include "ops/elementwise.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "error.hpp"
#include "common/push_constants.h"
#include "variant_select.hpp"

namespace vkq::ops {

void add_ref(std::span<const float> x, std::span<const float> y, std::span<float> z) {
  if (x.size() != y.size() || x.size() != z.size()) throw InputError("add_ref: size mismatch");
  for (size_t i = 0; i < x.size(); ++i) z[i] = x[i] + y[i];
}

Add::Add(Device& device, const std::string& forced)
    : device_(device),
      variant_(select_variant(device, "elementwise_add", forced)),
      wg_(pick_workgroup_size(device.caps(), 256)),
      kernel_(&device.kernel({variant_, {wg_}, sizeof(pc::Elementwise)})) {}

void Add::record(CommandStream& cs, const Buffer& x, const Buffer& y, const Buffer& z, uint32_t n) const {
  const uint64_t bytes = uint64_t(n) * 4;
  if (x.size() < bytes || y.size() < bytes || z.size() < bytes)
    throw InputError(fmt::format("add: buffers smaller than {} elements", n));
  const pc::Elementwise p{n};
  const uint32_t groups = std::max<uint32_t>(1, std::min<uint32_t>((n + wg_ - 1) / wg_, 65535));
  cs.dispatch(*kernel_, {x, y, z}, p, {groups, 1, 1});
}

}  // namespace vkq::ops
