#include "shader_registry.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "error.hpp"
#include "shader_table.hpp"

namespace vkq {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  if (s == "-" || s.empty()) return out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

ShaderRegistry::ShaderRegistry() {
  const auto& known = known_features();
  for (unsigned long i = 0; i < detail::kShaderTableSize; ++i) {
    const auto& e = detail::kShaderTable[i];
    ShaderVariant v;
    v.name = e.name;
    v.source = e.source;
    v.env = e.env;
    for (auto& f : split_list(e.features)) {
      if (!f.empty() && f[0] == '?') v.preferred_if.push_back(f.substr(1));
      else v.features.push_back(f);
    }
    v.defines = split_list(e.defines);
    v.spirv = {reinterpret_cast<const uint32_t*>(e.spirv), e.spirv_size / 4};
    for (const auto& f : v.features)
      if (std::find(known.begin(), known.end(), f) == known.end())
        throw InputError(fmt::format("shaders/variants.txt: variant '{}' needs unknown feature '{}'", v.name, f));
    for (const auto& f : v.preferred_if)
      if (std::find(known.begin(), known.end(), f) == known.end())
        throw InputError(fmt::format("shaders/variants.txt: variant '{}' needs unknown feature '{}'", v.name, f));
    variants_.push_back(std::move(v));
  }
}

const ShaderVariant& ShaderRegistry::get(const std::string& name) const {
  for (const auto& v : variants_)
    if (v.name == name) return v;
  throw InputError(fmt::format("no shader variant named '{}'", name));
}

std::string ShaderRegistry::missing_features(const ShaderVariant& v, const DeviceCaps& caps) {
  std::string miss;
  for (const auto& f : v.features)
    if (!caps_have_feature(caps, f)) miss += (miss.empty() ? "" : ",") + f;
  if (v.env == "vulkan1.3" && (caps.api_version < VK_API_VERSION_1_3))
    miss += std::string(miss.empty() ? "" : ",") + "vulkan1.3";
  return miss;
}

const ShaderVariant& ShaderRegistry::select(const std::vector<std::string>& candidates, const DeviceCaps& caps) const {
  std::string why;
  for (const auto& name : candidates) {
    const auto& v = get(name);
    auto miss = missing_features(v, caps);
    for (const auto& f : v.preferred_if)
      if (!caps_have_feature(caps, f)) miss += (miss.empty() ? "" : ",") + f + " (preferred)";
    if (miss.empty()) return v;
    why += fmt::format("{}{} needs {}", why.empty() ? "" : "; ", name, miss);
  }
  throw DeviceError(fmt::format("device '{}' can run no variant of this op ({})", caps.name, why));
}

std::vector<uint32_t> spirv_storage_bindings(std::span<const uint32_t> w) {
  // Walk the instruction stream for OpDecorate <id> Binding <n> (opcode 71,
  // decoration 33). Header is 5 words.
  std::vector<uint32_t> out;
  size_t i = 5;
  while (i < w.size()) {
    const uint32_t count = w[i] >> 16, op = w[i] & 0xffff;
    if (count == 0 || i + count > w.size()) throw InputError("malformed SPIR-V module");
    if (op == 71 && count >= 4 && w[i + 2] == 33) out.push_back(w[i + 3]);
    i += count;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace vkq
