#include "device.hpp"

#include <chrono>

#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "error.hpp"
#include "kernel.hpp"
#include "oom_report.hpp"

namespace vkq {
namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

constexpr const char* kDeviceLostHint =
    "the driver lost the device (a crash, a reset or a timeout in the driver); check the kernel log (dmesg), "
    "update the driver, or try another device (--device)";

constexpr uint64_t kFenceTimeoutNs = 600ull * 1000 * 1000 * 1000;  // 10 minutes: lavapipe is slow on big models
constexpr auto kFencePoll = std::chrono::milliseconds(20);  // DeviceOptions::fence_wait "poll": then block

// A VkPipelineCache blob starts with a header naming the device; reject blobs
// from other devices or drivers before the driver sees them.
bool cache_header_matches(const std::vector<uint8_t>& blob, const VkPhysicalDeviceProperties& p) {
  if (blob.size() < 32) return false;
  uint32_t w[4];
  std::memcpy(w, blob.data(), 16);
  return w[0] >= 32 && w[1] == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && w[2] == p.vendorID && w[3] == p.deviceID &&
         std::memcmp(blob.data() + 16, p.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

}  // namespace

DeviceOptions DeviceOptions::from_env() {
  DeviceOptions o;
  o.profile = env("VKQ_DEVICE_PROFILE");
  o.cache_dir = env("VKQ_CACHE_DIR");
  o.faults = FaultSpec::parse(env("VKQ_FAULT"));
  o.fence_wait = env("VKQ_FENCE_WAIT");
  if (o.cache_dir.empty()) {
    const std::string xdg = env("XDG_CACHE_HOME"), home = env("HOME");
    if (!xdg.empty()) o.cache_dir = xdg + "/vkq";
    else if (!home.empty()) o.cache_dir = home + "/.cache/vkq";
  }
  return o;
}

Device::Device(const Instance& instance, uint32_t index, DeviceOptions options)
    : instance_(instance),
      physical_(instance.physical_device(index)),
      driver_caps_(instance.devices().at(index).caps),
      caps_(apply_device_profile(driver_caps_, parse_device_profile(options.profile))),
      faults_(options.faults) {
  if (options.fence_wait == "poll" || options.fence_wait == "block")
    poll_fences_ = options.fence_wait == "poll";
  else if (options.fence_wait.empty() || options.fence_wait == "auto")
    poll_fences_ = !caps_.is_cpu();
  else
    throw InputError(fmt::format("VKQ_FENCE_WAIT='{}': expected auto, poll or block", options.fence_wait));
  const auto& d = *physical_.getDispatcher();
  VkPhysicalDevice pd = static_cast<VkPhysicalDevice>(*physical_);

  // Queue: the first family with compute.
  const auto families = physical_.getQueueFamilyProperties();
  bool found = false;
  for (uint32_t i = 0; i < families.size(); ++i) {
    if (families[i].queueFlags & vk::QueueFlagBits::eCompute) {
      queue_family_ = i;
      found = true;
      break;
    }
  }
  if (!found) throw DeviceError(fmt::format("device '{}' has no compute queue", caps_.name));

  // Features: enable exactly what the masked caps allow, so that the
  // validation layer catches a kernel that uses a masked feature.
  const bool v13 = caps_.api_version >= VK_API_VERSION_1_3;
  VkPhysicalDeviceVulkan12Features drv12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  {
    VkPhysicalDeviceFeatures2 q{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    q.pNext = &drv12;
    d.vkGetPhysicalDeviceFeatures2(pd, &q);
  }
  VkPhysicalDeviceFeatures2 f2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
  VkPhysicalDeviceVulkan11Features f11{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
  VkPhysicalDeviceVulkan12Features f12{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
  VkPhysicalDeviceVulkan13Features f13{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES};
  VkPhysicalDeviceSubgroupSizeControlFeatures fssc{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES};
  VkPhysicalDeviceShaderIntegerDotProductFeatures fidp{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES};
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR fcm{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR};
  VkPhysicalDeviceCooperativeMatrix2FeaturesNV fcm2{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV};
  void** next = &f2.pNext;
  auto chain = [&next](auto& s) { *next = &s; next = &s.pNext; };
  std::vector<const char*> exts;

  f2.features.shaderInt16 = caps_.int16;
  f2.features.shaderInt64 = caps_.int64;
  f11.storageBuffer16BitAccess = caps_.storage16;
  f12.shaderFloat16 = caps_.fp16;
  f12.shaderInt8 = caps_.int8;
  f12.storageBuffer8BitAccess = caps_.storage8;
  f12.shaderBufferInt64Atomics = caps_.int64_atomics;  // matvec_idot_block.comp EPI_FFN
  f12.vulkanMemoryModel = drv12.vulkanMemoryModel;
  f12.vulkanMemoryModelDeviceScope = drv12.vulkanMemoryModelDeviceScope;
  // matmul_cm2.comp's decode functions take buffer references (the
  // PhysicalStorageBufferAddresses capability); no buffer's address is taken.
  f12.bufferDeviceAddress = caps_.coopmat2 && drv12.bufferDeviceAddress;
  chain(f11);
  chain(f12);
  if (v13) {
    f13.subgroupSizeControl = caps_.subgroup_size_control;
    f13.computeFullSubgroups = VK_FALSE;
    f13.shaderIntegerDotProduct = caps_.int_dot;
    chain(f13);
  } else {
    if (caps_.subgroup_size_control) {
      fssc.subgroupSizeControl = VK_TRUE;
      chain(fssc);
      exts.push_back(VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
    }
    if (caps_.int_dot) {
      fidp.shaderIntegerDotProduct = VK_TRUE;
      chain(fidp);
      exts.push_back(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
    }
  }
  if (caps_.coopmat) {
    fcm.cooperativeMatrix = VK_TRUE;
    chain(fcm);
    exts.push_back(VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
  }
  if (caps_.coopmat && caps_.coopmat2) {  // what matmul_cm2.comp uses (DeviceCaps::coopmat2)
    fcm2.cooperativeMatrixWorkgroupScope = VK_TRUE;
    fcm2.cooperativeMatrixFlexibleDimensions = VK_TRUE;
    fcm2.cooperativeMatrixTensorAddressing = VK_TRUE;
    fcm2.cooperativeMatrixBlockLoads = VK_TRUE;
    chain(fcm2);
    exts.push_back(VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME);
  }
  if (caps_.memory_budget_ext) exts.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR fpe{
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR};
  if (options.kernel_stats && driver_caps_.pipeline_stats_ext) {
    VkPhysicalDeviceFeatures2 q{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
    q.pNext = &fpe;
    d.vkGetPhysicalDeviceFeatures2(pd, &q);
    if (fpe.pipelineExecutableInfo) {
      fpe.pNext = nullptr;
      chain(fpe);
      exts.push_back(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
      kernel_stats_ = true;
    }
  }

  const float prio = 1.0f;
  vk::DeviceQueueCreateInfo qci{};
  qci.queueFamilyIndex = queue_family_;
  qci.queueCount = 1;
  qci.pQueuePriorities = &prio;
  vk::DeviceCreateInfo dci{};
  dci.pNext = &f2;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = static_cast<uint32_t>(exts.size());
  dci.ppEnabledExtensionNames = exts.data();
  try {
    device_ = vk::raii::Device(physical_, dci);
  } catch (const vk::SystemError& e) {
    throw DeviceError(fmt::format("device '{}': vkCreateDevice failed: {}", caps_.name, e.what()));
  }
  queue_ = device_.getQueue(queue_family_, 0);
  vk::CommandPoolCreateInfo pci{};
  pci.flags = vk::CommandPoolCreateFlagBits::eResetCommandBuffer;
  pci.queueFamilyIndex = queue_family_;
  pool_ = vk::raii::CommandPool(device_, pci);

  // Pipeline cache, one file per device UUID and driver version.
  std::vector<uint8_t> blob;
  if (!options.cache_dir.empty()) {
    cache_path_ = fmt::format("{}/pipelines-{}-{:08x}.bin", options.cache_dir, caps_.device_uuid, caps_.driver_version);
    std::ifstream in(cache_path_, std::ios::binary);
    if (in) {
      blob.assign(std::istreambuf_iterator<char>(in), {});
      VkPhysicalDeviceProperties p{};
      d.vkGetPhysicalDeviceProperties(pd, &p);
      if (!cache_header_matches(blob, p)) {
        log().info(fmt::format("ignoring pipeline cache {} (other device or driver)", cache_path_));
        blob.clear();
      }
    }
  }
  vk::PipelineCacheCreateInfo cci{};
  cci.initialDataSize = blob.size();
  cci.pInitialData = blob.empty() ? nullptr : blob.data();
  pipeline_cache_ = vk::raii::PipelineCache(device_, cci);
  log().debug(fmt::format("opened device {} '{}' ({}), profile '{}'", caps_.index, caps_.name, caps_.driver_name,
                          caps_.profile));
}

Device::~Device() {
  try {
    if (*device_) device_.waitIdle();
    save_pipeline_cache();
  } catch (...) {
    // A destructor must not throw; a lost cache only costs compile time.
  }
  kernels_.clear();
}

void Device::save_pipeline_cache() {
  if (cache_path_.empty() || kernels_.empty()) return;
  const auto data = pipeline_cache_.getData();
  std::error_code ec;
  fs::create_directories(fs::path(cache_path_).parent_path(), ec);
  const std::string tmp = cache_path_ + fmt::format(".tmp{}", static_cast<long>(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    if (!out) {
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, cache_path_, ec);  // atomic: readers see the old or the new file
  if (ec) fs::remove(tmp, ec);
}

const Kernel& Device::kernel(const KernelSpec& spec) {
  auto it = kernels_.find(spec);
  if (it != kernels_.end()) return *it->second;
  const auto& variant = registry_.get(spec.variant);
  const auto miss = ShaderRegistry::missing_features(variant, caps_);
  if (!miss.empty())
    throw DeviceError(fmt::format("device '{}' cannot run kernel '{}': needs {}", caps_.name, spec.variant, miss));
  auto k = std::make_unique<Kernel>(*this, variant, spec, pipeline_cache_);
  log().debug(fmt::format("created kernel '{}' (spec constants {})", spec.variant, fmt::join(spec.spec_constants, ",")));
  return *kernels_.emplace(spec, std::move(k)).first->second;
}

std::vector<std::pair<const KernelSpec*, const Kernel*>> Device::kernels() const {
  std::vector<std::pair<const KernelSpec*, const Kernel*>> out;
  for (const auto& [spec, k] : kernels_) out.emplace_back(&spec, k.get());
  return out;
}

vk::raii::DeviceMemory Device::allocate(const vk::MemoryRequirements& req, vk::MemoryPropertyFlags want,
                                        vk::MemoryPropertyFlags prefer, bool* host_visible) {
  const auto mp = physical_.getMemoryProperties();
  int best = -1;
  for (uint32_t i = 0; i < mp.memoryTypeCount; ++i) {
    if (!(req.memoryTypeBits & (1u << i))) continue;
    const auto f = mp.memoryTypes[i].propertyFlags;
    if ((f & want) != want) continue;
    if (best < 0 || ((f & prefer) == prefer && (mp.memoryTypes[best].propertyFlags & prefer) != prefer)) best = static_cast<int>(i);
  }
  if (best < 0)
    throw DeviceError(fmt::format("device '{}': no memory type with flags {} for {} bytes", caps_.name,
                                  vk::to_string(want), req.size));
  if (req.size > caps_.max_memory_allocation_size)
    throw DeviceError(fmt::format("device '{}': allocation of {} exceeds maxMemoryAllocationSize {}", caps_.name,
                                  format_bytes(req.size), format_bytes(caps_.max_memory_allocation_size)),
                      "split the buffer, or use a smaller model/context",
                      oom_report(req.size, mp.memoryTypes[best].heapIndex));
  vk::MemoryAllocateInfo ai{};
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = static_cast<uint32_t>(best);
  try {
    faults_.before_allocate();
    vk::raii::DeviceMemory mem(device_, ai);
    mem_.current += req.size;
    mem_.peak = std::max(mem_.peak, mem_.current);
    ++mem_.allocations;
    // Mapped access needs coherent memory (no explicit flushes in vkq).
    const auto hvc = vk::MemoryPropertyFlagBits::eHostVisible | vk::MemoryPropertyFlagBits::eHostCoherent;
    if (host_visible) *host_visible = (mp.memoryTypes[best].propertyFlags & hvc) == hvc;
    return mem;
  } catch (const vk::SystemError& e) {
    const bool oom = e.code() == vk::Result::eErrorOutOfDeviceMemory || e.code() == vk::Result::eErrorOutOfHostMemory;
    throw DeviceError(fmt::format("device '{}': vkAllocateMemory of {} (heap {}) failed: {}", caps_.name,
                                  format_bytes(req.size), mp.memoryTypes[best].heapIndex, e.what()),
                      "use a smaller context, another weight type, or another device (see `vkq fit`)",
                      oom ? oom_report(req.size, mp.memoryTypes[best].heapIndex) : nullptr);
  }
}

std::shared_ptr<OomReport> Device::oom_report(uint64_t requested, uint32_t heap) const {
  auto r = std::make_shared<OomReport>();
  r->device = caps_.name;
  r->requested = requested;
  r->heap = heap;
  r->max_allocation = caps_.max_memory_allocation_size;
  r->allocated = mem_.current;
  r->heaps = caps_.heaps;
  if (caps_.memory_budget_ext) {  // the budget now, not at startup (other programs come and go)
    try {
      const auto p = physical_.getMemoryProperties2<vk::PhysicalDeviceMemoryProperties2,
                                                    vk::PhysicalDeviceMemoryBudgetPropertiesEXT>();
      const auto& b = p.get<vk::PhysicalDeviceMemoryBudgetPropertiesEXT>();
      for (size_t i = 0; i < r->heaps.size() && i < VK_MAX_MEMORY_HEAPS; ++i) {
        r->heaps[i].budget = b.heapBudget[i];
        r->heaps[i].usage = b.heapUsage[i];
      }
    } catch (const vk::SystemError&) {
      // Keep the startup figures.
    }
  }
  return r;
}

void Device::release(uint64_t bytes) { mem_.current -= std::min(bytes, mem_.current); }

void Device::wait(const vk::raii::Fence& fence, const char* what) const {
  vk::Result r;
  try {
    if (poll_fences_) {
      const auto t0 = std::chrono::steady_clock::now();
      do {
        if (fence.getStatus() == vk::Result::eSuccess) return;
      } while (std::chrono::steady_clock::now() - t0 < kFencePoll);
    }
    r = device_.waitForFences({*fence}, VK_TRUE, kFenceTimeoutNs);
  } catch (const vk::SystemError& e) {
    throw DeviceError(fmt::format("device '{}': vkWaitForFences ({}) failed: {}", caps_.name, what, e.what()),
                      e.code() == vk::Result::eErrorDeviceLost ? kDeviceLostHint : "");
  }
  if (r == vk::Result::eTimeout)
    throw DeviceError(fmt::format("device '{}': vkWaitForFences ({}) timed out", caps_.name, what));
}

void Device::run_once(const std::function<void(const vk::raii::CommandBuffer&)>& record) {
  vk::CommandBufferAllocateInfo ai{};
  ai.commandPool = *pool_;
  ai.level = vk::CommandBufferLevel::ePrimary;
  ai.commandBufferCount = 1;
  auto cbs = vk::raii::CommandBuffers(device_, ai);
  auto& cb = cbs[0];
  vk::CommandBufferBeginInfo bi{};
  bi.flags = vk::CommandBufferUsageFlagBits::eOneTimeSubmit;
  cb.begin(bi);
  record(cb);
  // Make every write of this submission visible to the host after the fence.
  vk::MemoryBarrier mb{vk::AccessFlagBits::eMemoryWrite, vk::AccessFlagBits::eHostRead};
  cb.pipelineBarrier(vk::PipelineStageFlagBits::eAllCommands, vk::PipelineStageFlagBits::eHost, {}, mb, {}, {});
  cb.end();
  vk::raii::Fence fence(device_, vk::FenceCreateInfo{});
  vk::SubmitInfo si{};
  si.commandBufferCount = 1;
  vk::CommandBuffer raw = *cb;
  si.pCommandBuffers = &raw;
  submit(si, fence, "transfer");
  wait(fence, "transfer");
}

void Device::submit(const vk::SubmitInfo& info, const vk::raii::Fence& fence, const char* what) {
  try {
    faults_.before_submit();
    queue_.submit(info, *fence);
  } catch (const vk::SystemError& e) {
    throw DeviceError(fmt::format("device '{}': vkQueueSubmit ({}) failed: {}", caps_.name, what, e.what()),
                      e.code() == vk::Result::eErrorDeviceLost ? kDeviceLostHint : "");
  }
}

std::unique_ptr<Device> open_device(const Instance& instance, const std::string& spec, DeviceOptions options) {
  return std::make_unique<Device>(instance, instance.select(spec), std::move(options));
}

}  // namespace vkq
