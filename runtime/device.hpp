// Device: a logical Vulkan device with one compute queue, the caps vkq may
// use (driver caps after VKQ_DEVICE_PROFILE), lazily created kernels kept in
// an on-disk VkPipelineCache, and a record of its allocations.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "device_caps.hpp"
#include "device_profile.hpp"
#include "fault_injection.hpp"
#include "instance.hpp"
#include "shader_registry.hpp"
#include "vulkan.hpp"

namespace vkq {

class Kernel;
struct OomReport;

struct DeviceOptions {
  std::string profile;    // VKQ_DEVICE_PROFILE syntax; "" = none
  std::string cache_dir;  // pipeline cache folder; "" = no on-disk cache
  FaultSpec faults;       // test hook: Vulkan calls made to fail (fault_injection.hpp)
  // How the host waits for a submit: "poll" checks the fence in a loop for
  // up to 20 ms before it blocks (one core busy, no wake-up latency: a decode
  // step is one submit per token), "block" sleeps in vkWaitForFences;
  // "" or "auto": poll unless the device is a CPU (lavapipe needs the cores).
  std::string fence_wait;
  // Kernels keep the driver's statistics of their compiled code (register
  // count, shared and local memory, ...; Kernel::stats) where the device
  // has VK_KHR_pipeline_executable_properties; elsewhere nothing changes
  // (Device::kernel_stats() says which). For profiling: `vkq bench model
  // --kernel-stats`.
  bool kernel_stats = false;
  // VKQ_DEVICE_PROFILE, VKQ_CACHE_DIR (default $XDG_CACHE_HOME/vkq or
  // ~/.cache/vkq), VKQ_FAULT, VKQ_FENCE_WAIT.
  static DeviceOptions from_env();
};

// What one kernel needs: a variant, its specialization constants (ids 0..n-1)
// and the push-constant size.
struct KernelSpec {
  std::string variant;
  std::vector<uint32_t> spec_constants;
  uint32_t push_constant_size = 0;
  bool operator<(const KernelSpec& o) const {
    return std::tie(variant, spec_constants, push_constant_size) <
           std::tie(o.variant, o.spec_constants, o.push_constant_size);
  }
};

struct MemoryStats {
  uint64_t current = 0;   // bytes of VkDeviceMemory allocated now
  uint64_t peak = 0;
  uint64_t allocations = 0;
};

class Device {
 public:
  Device(const Instance& instance, uint32_t index, DeviceOptions options = DeviceOptions::from_env());
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const DeviceCaps& caps() const { return caps_; }                // after the profile
  const DeviceCaps& driver_caps() const { return driver_caps_; }  // as the driver says
  const Instance& instance() const { return instance_; }
  const Log& log() const { return instance_.log(); }
  const ShaderRegistry& shaders() const { return registry_; }

  const vk::raii::Device& vk() const { return device_; }
  const vk::raii::PhysicalDevice& physical() const { return physical_; }
  const vk::raii::Queue& queue() const { return queue_; }
  uint32_t queue_family() const { return queue_family_; }

  // The kernel for `spec`, created on first use.
  const Kernel& kernel(const KernelSpec& spec);
  // Every kernel created so far, by spec.
  std::vector<std::pair<const KernelSpec*, const Kernel*>> kernels() const;
  // Whether kernels capture the driver's statistics (DeviceOptions::kernel_stats
  // asked for, and the device has the extension).
  bool kernel_stats() const { return kernel_stats_; }

  // Memory: finds a type and allocates, recording the bytes. Throws
  // DeviceError naming the device, the call and the size, with an OomReport
  // (the device side of the fit table) when the memory is not there.
  vk::raii::DeviceMemory allocate(const vk::MemoryRequirements& req, vk::MemoryPropertyFlags want,
                                  vk::MemoryPropertyFlags prefer, bool* host_visible);
  void release(uint64_t bytes);
  const MemoryStats& memory_stats() const { return mem_; }
  // The test hook's counters: allocations and submits made so far.
  const FaultInjector& faults() const { return faults_; }
  // Whether wait() polls the fence before it blocks (DeviceOptions::fence_wait).
  bool polls_fences() const { return poll_fences_; }
  // Starts a new peak from what is allocated now (to measure one model's load).
  void reset_peak() { mem_.peak = mem_.current; }

  // Records commands with `record`, submits, and waits (for uploads etc.).
  void run_once(const std::function<void(const vk::raii::CommandBuffer&)>& record);

  // vkQueueSubmit on the compute queue (every submit of vkq goes through
  // here); DeviceError naming the device and `what` on failure.
  void submit(const vk::SubmitInfo& info, const vk::raii::Fence& fence, const char* what);

  // Waits on a fence with vkq's timeout; DeviceError on loss or timeout.
  void wait(const vk::raii::Fence& fence, const char* what) const;

  const vk::raii::CommandPool& command_pool() const { return pool_; }
  std::string pipeline_cache_path() const { return cache_path_; }

 private:
  void save_pipeline_cache();
  std::shared_ptr<OomReport> oom_report(uint64_t requested, uint32_t heap) const;

  const Instance& instance_;
  const vk::raii::PhysicalDevice& physical_;
  DeviceCaps driver_caps_;
  DeviceCaps caps_;
  const ShaderRegistry registry_;
  vk::raii::Device device_{nullptr};
  vk::raii::Queue queue_{nullptr};
  uint32_t queue_family_ = 0;
  vk::raii::PipelineCache pipeline_cache_{nullptr};
  std::string cache_path_;
  vk::raii::CommandPool pool_{nullptr};
  std::map<KernelSpec, std::unique_ptr<Kernel>> kernels_;
  MemoryStats mem_;
  FaultInjector faults_;
  bool poll_fences_ = false;  // DeviceOptions::fence_wait
  bool kernel_stats_ = false;  // DeviceOptions::kernel_stats, where the device can
};

// Opens the device that `spec` names (see Instance::select).
std::unique_ptr<Device> open_device(const Instance& instance, const std::string& spec,
                                    DeviceOptions options = DeviceOptions::from_env());

}  // namespace vkq
