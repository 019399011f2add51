// The one place where kernel variants are chosen from DeviceCaps (after
// VKQ_DEVICE_PROFILE masking). An op's variants are the rows of
// shaders/variants.txt named `<op>` or `<op>_<suffix>`, in table order, which
// is the order of preference; the first one the device can run wins.
// A caller may force a variant by name (tests and `vkq bench --variant`).
#pragma once

#include <string>
#include <vector>

#include "device.hpp"

namespace vkq {

// Variants of `op` in preference order.
std::vector<std::string> op_variants(const ShaderRegistry& registry, const std::string& op);

// The chosen variant for `op` on `device` (or `forced`, checked to be one of
// op's variants and runnable). Logged at debug level.
std::string select_variant(const Device& device, const std::string& op, const std::string& forced = {});

// Largest power-of-two workgroup size <= want that the device allows and whose
// shared memory (bytes_per_invocation each) fits.
uint32_t pick_workgroup_size(const DeviceCaps& caps, uint32_t want, uint32_t shared_bytes_per_invocation = 0);

}  // namespace vkq
