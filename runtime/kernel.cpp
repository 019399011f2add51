#include "kernel.hpp"

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

Kernel::Kernel(Device& device, const ShaderVariant& variant, const KernelSpec& spec,
               const vk::raii::PipelineCache& cache)
    : name_(variant.name), pc_size_(spec.push_constant_size) {
  const auto& caps = device.caps();
  const auto bindings = spirv_storage_bindings(variant.spirv);
  // Bindings must be 0..n-1: the command stream binds buffers by position.
  for (uint32_t i = 0; i < bindings.size(); ++i)
    if (bindings[i] != i) throw InputError(fmt::format("shader '{}': bindings must be 0..n-1", name_));
  binding_count_ = static_cast<uint32_t>(bindings.size());
  if (pc_size_ > caps.max_push_constants_size)
    throw DeviceError(fmt::format("device '{}': kernel '{}' needs {} bytes of push constants, limit {}", caps.name,
                                  name_, pc_size_, caps.max_push_constants_size));

  std::vector<vk::DescriptorSetLayoutBinding> lb(binding_count_);
  for (uint32_t i = 0; i < binding_count_; ++i) {
    lb[i].binding = i;
    lb[i].descriptorType = vk::DescriptorType::eStorageBuffer;
    lb[i].descriptorCount = 1;
    lb[i].stageFlags = vk::ShaderStageFlagBits::eCompute;
  }
  vk::DescriptorSetLayoutCreateInfo dl{};
  dl.bindingCount = binding_count_;
  dl.pBindings = lb.data();
  set_layout_ = vk::raii::DescriptorSetLayout(device.vk(), dl);

  vk::PushConstantRange pcr{vk::ShaderStageFlagBits::eCompute, 0, pc_size_};
  vk::PipelineLayoutCreateInfo pl{};
  vk::DescriptorSetLayout sl = *set_layout_;
  pl.setLayoutCount = 1;
  pl.pSetLayouts = &sl;
  pl.pushConstantRangeCount = pc_size_ ? 1 : 0;
  pl.pPushConstantRanges = pc_size_ ? &pcr : nullptr;
  layout_ = vk::raii::PipelineLayout(device.vk(), pl);

  vk::ShaderModuleCreateInfo sm{};
  sm.codeSize = variant.spirv.size_bytes();
  sm.pCode = variant.spirv.data();
  vk::raii::ShaderModule module(device.vk(), sm);

  std::vector<vk::SpecializationMapEntry> entries(spec.spec_constants.size());
  for (uint32_t i = 0; i < entries.size(); ++i) entries[i] = vk::SpecializationMapEntry{i, i * 4u, 4u};
  vk::SpecializationInfo si{};
  si.mapEntryCount = static_cast<uint32_t>(entries.size());
  si.pMapEntries = entries.data();
  si.dataSize = spec.spec_constants.size() * 4;
  si.pData = spec.spec_constants.data();

  vk::PipelineShaderStageRequiredSubgroupSizeCreateInfo rss{};
  vk::PipelineShaderStageCreateInfo stage{};
  stage.stage = vk::ShaderStageFlagBits::eCompute;
  stage.module = *module;
  stage.pName = "main";
  stage.pSpecializationInfo = entries.empty() ? nullptr : &si;
  if (caps.forced_subgroup_size) {
    rss.requiredSubgroupSize = caps.forced_subgroup_size;
    stage.pNext = &rss;
  }
  vk::ComputePipelineCreateInfo ci{};
  ci.stage = stage;
  ci.layout = *layout_;
  if (device.kernel_stats()) ci.flags = vk::PipelineCreateFlagBits::eCaptureStatisticsKHR;
  try {
    pipeline_ = vk::raii::Pipeline(device.vk(), cache, ci);
  } catch (const vk::SystemError& e) {
    throw DeviceError(fmt::format("device '{}': vkCreateComputePipelines for '{}' failed: {}", caps.name, name_, e.what()));
  }
  if (device.kernel_stats()) {
    try {
      read_stats(device);
    } catch (const vk::SystemError& e) {
      throw DeviceError(fmt::format("device '{}': reading the statistics of kernel '{}' failed: {}", caps.name, name_,
                                    e.what()));
    }
  }
}

void Kernel::read_stats(const Device& device) {
  const auto executables = device.vk().getPipelineExecutablePropertiesKHR(vk::PipelineInfoKHR{*pipeline_});
  for (uint32_t i = 0; i < executables.size(); ++i) {
    const std::string exe = executables.size() > 1 ? std::string(executables[i].name.data()) : std::string();
    for (const auto& s : device.vk().getPipelineExecutableStatisticsKHR(vk::PipelineExecutableInfoKHR{*pipeline_, i})) {
      KernelStat st{exe, s.name.data(), s.description.data(), 0};
      switch (s.format) {
        case vk::PipelineExecutableStatisticFormatKHR::eBool32: st.value = s.value.b32 ? 1 : 0; break;
        case vk::PipelineExecutableStatisticFormatKHR::eInt64: st.value = double(s.value.i64); break;
        case vk::PipelineExecutableStatisticFormatKHR::eUint64: st.value = double(s.value.u64); break;
        case vk::PipelineExecutableStatisticFormatKHR::eFloat64: st.value = s.value.f64; break;
      }
      stats_.push_back(std::move(st));
    }
  }
}

}  // namespace vkq
