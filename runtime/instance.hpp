// Instance: the Vulkan loader, a VkInstance (with the Khronos validation
// layer when asked), and the list of physical devices with their DeviceCaps.
// Every other runtime object hangs off an Instance passed explicitly.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "device_caps.hpp"
#include "log.hpp"
#include "vulkan.hpp"

namespace vkq {

struct InstanceOptions {
  std::string loader;            // loader library; "" = libvulkan.so.1 (VKQ_VULKAN_LIBRARY)
  bool validation = false;       // enable VK_LAYER_KHRONOS_validation + messenger
  bool sync_validation = false;  // also synchronization validation
  Log log{};
  // VKQ_VALIDATION=1 (or "sync"), VKQ_LOG=debug|info|warn.
  static InstanceOptions from_env();
};

// A physical device as vkq sees it: caps from the driver, and why it cannot
// be used ("" when it can).
struct PhysicalDeviceEntry {
  DeviceCaps caps;
  std::string rejected;
};

class Instance {
 public:
  // Throws DeviceError (exit 3) with a hint when there is no loader or driver.
  explicit Instance(InstanceOptions options = InstanceOptions::from_env());
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  const std::vector<PhysicalDeviceEntry>& devices() const { return devices_; }
  const vk::raii::PhysicalDevice& physical_device(uint32_t index) const;
  const vk::raii::Instance& vk() const { return instance_; }
  const Log& log() const { return options_.log; }
  bool validation_enabled() const { return options_.validation; }

  // Chooses a device: `spec` is an index, a case-insensitive name substring,
  // or empty (then VKQ_DEVICE, then the best usable device). "cpu" is not a
  // Vulkan device and is handled by callers. Throws InputError (exit 2)
  // listing the devices when nothing matches; DeviceError when none is usable.
  uint32_t select(const std::string& spec) const;
  std::string describe_devices() const;  // "0: name (type, reason)"...

  // Validation messages (warnings and errors) seen so far.
  size_t validation_message_count() const;
  std::vector<std::string> validation_messages() const;
  void clear_validation_messages();

  struct Messages {  // shared with the debug callback
    mutable std::mutex mu;
    std::vector<std::string> list;
  };

 private:
  struct LibraryCloser {
    void operator()(void* handle) const;
  };
  InstanceOptions options_;
  std::unique_ptr<void, LibraryCloser> library_;  // the Vulkan loader, dlopen'ed
  vk::raii::Context context_;
  vk::raii::Instance instance_{nullptr};
  vk::raii::DebugUtilsMessengerEXT messenger_{nullptr};
  std::vector<vk::raii::PhysicalDevice> physical_;
  std::vector<PhysicalDeviceEntry> devices_;
  std::unique_ptr<Messages> messages_;
};

}  // namespace vkq
