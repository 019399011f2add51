#include "ops/elementwise.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "error.hpp"
#include "common/push_constants.h"
#include "ggml_types.hpp"
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

void convert_f16_ref(std::span<const float> x, std::span<uint16_t> h) {
  if (x.size() != h.size()) throw InputError("convert_f16_ref: size mismatch");
  for (size_t i = 0; i < x.size(); ++i) h[i] = fp32_to_fp16(x[i]);
}

ConvertF16::ConvertF16(Device& device)
    : wg_(pick_workgroup_size(device.caps(), 256)),
      kernel_(&device.kernel({select_variant(device, "convert_f16"), {wg_}, sizeof(pc::Elementwise)})) {}

void ConvertF16::record(CommandStream& cs, const Buffer& x, const Buffer& h, uint64_t n) const {
  if (n % 4 || n / 4 > UINT32_MAX || x.size() < n * 4 || h.size() < n * 2)
    throw InputError(fmt::format("convert_f16: {} elements (a multiple of 4) do not fit its buffers", n));
  const pc::Elementwise p{static_cast<uint32_t>(n / 4)};
  const uint32_t groups = static_cast<uint32_t>(std::clamp<uint64_t>((n / 4 + wg_ - 1) / wg_, 1, 65535));
  cs.dispatch(*kernel_, {x, h}, p, {groups, 1, 1});
}

}  // namespace vkq::ops
