// The shader registry: every variant of shaders/variants.txt with its
// embedded SPIR-V, looked up by name, and the one place where a variant is
// chosen for an op from the (profile-masked) DeviceCaps.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "device_caps.hpp"

namespace vkq {

struct ShaderVariant {
  std::string name;
  std::string source;
  std::string env;
  std::vector<std::string> features;  // required device features
  std::vector<std::string> preferred_if;  // features ("?name" in the table) without which the selector skips it
  std::vector<std::string> defines;
  std::span<const uint32_t> spirv;
};

class ShaderRegistry {
 public:
  ShaderRegistry();  // reads the embedded table; checks every feature name
  const ShaderVariant& get(const std::string& name) const;  // throws InputError if unknown
  const std::vector<ShaderVariant>& all() const { return variants_; }

  // Why `caps` cannot run `v` ("" when it can).
  static std::string missing_features(const ShaderVariant& v, const DeviceCaps& caps);

  // First variant, in table order, among `candidates` that `caps` can run
  // and whose preferences (?features) it meets.
  // Throws DeviceError listing each candidate and what it lacks.
  const ShaderVariant& select(const std::vector<std::string>& candidates, const DeviceCaps& caps) const;

 private:
  std::vector<ShaderVariant> variants_;
};

// Binding numbers declared by a SPIR-V module (descriptor set 0), sorted.
std::vector<uint32_t> spirv_storage_bindings(std::span<const uint32_t> spirv);

}  // namespace vkq
