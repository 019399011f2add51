// Kernel: a compute pipeline for one shader variant with its specialization
// constants. Bindings are all storage buffers in set 0 (read from the SPIR-V),
// and one push-constant range for the whole block.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "device.hpp"
#include "shader_registry.hpp"
#include "vulkan.hpp"

namespace vkq {

// One statistic the driver reports for a compiled kernel
// (VK_KHR_pipeline_executable_properties): "Register Count" and the like.
// Booleans are 0 or 1. `executable` names the pipeline executable where a
// pipeline has more than one (compute pipelines have one).
struct KernelStat {
  std::string executable, name, description;
  double value = 0;
};

class Kernel {
 public:
  Kernel(Device& device, const ShaderVariant& variant, const KernelSpec& spec, const vk::raii::PipelineCache& cache);

  const std::string& name() const { return name_; }
  uint32_t binding_count() const { return binding_count_; }
  uint32_t push_constant_size() const { return pc_size_; }
  const vk::raii::DescriptorSetLayout& set_layout() const { return set_layout_; }
  const vk::raii::PipelineLayout& layout() const { return layout_; }
  const vk::raii::Pipeline& pipeline() const { return pipeline_; }
  // The driver's statistics of the compiled code, where the device captures
  // them (Device::kernel_stats()); empty elsewhere.
  const std::vector<KernelStat>& stats() const { return stats_; }

 private:
  std::string name_;
  uint32_t binding_count_ = 0;
  uint32_t pc_size_ = 0;
  vk::raii::DescriptorSetLayout set_layout_{nullptr};
  vk::raii::PipelineLayout layout_{nullptr};
  vk::raii::Pipeline pipeline_{nullptr};
  std::vector<KernelStat> stats_;

  void read_stats(const Device& device);
};

}  // namespace vkq
