// A test hook that makes chosen Vulkan calls fail the way a driver does, so
// vkq's device-failure paths (exit 3 with the device and the call, the fit
// table for memory, no partial output) run on any device, lavapipe in CI.
//
//   VKQ_FAULT=alloc:N     the N-th vkAllocateMemory of a device (1-based)
//                         returns VK_ERROR_OUT_OF_DEVICE_MEMORY; later ones
//                         succeed (running out of memory is transient)
//   VKQ_FAULT=submit:N    the N-th vkQueueSubmit returns VK_ERROR_DEVICE_LOST,
//                         and so does every later one (a lost device stays lost)
//   VKQ_FAULT=alloc:3,submit:10   both
//
// Counts are per Device: the injector is part of DeviceOptions and lives in
// the Device (no global state). The call itself is not made when a fault is
// injected; the error is thrown as the vk::SystemError that Vulkan-Hpp
// throws for that result, so the same catch blocks handle real and injected
// failures.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vkq {

struct FaultSpec {
  uint64_t alloc = 0;   // 0: never
  uint64_t submit = 0;  // 0: never
  bool empty() const { return alloc == 0 && submit == 0; }
  std::string to_string() const;  // VKQ_FAULT syntax; "" when empty
  // VKQ_FAULT syntax; InputError (exit 2) naming the token otherwise.
  static FaultSpec parse(std::string_view spec);
};

class FaultInjector {
 public:
  explicit FaultInjector(FaultSpec spec = {}) : spec_(spec) {}

  // Called just before the real call; throws vk::OutOfDeviceMemoryError /
  // vk::DeviceLostError when this call is the one chosen to fail.
  void before_allocate();
  void before_submit();

  const FaultSpec& spec() const { return spec_; }
  uint64_t allocations() const { return allocations_; }  // calls seen so far
  uint64_t submits() const { return submits_; }

 private:
  FaultSpec spec_;
  uint64_t allocations_ = 0, submits_ = 0;
};

}  // namespace vkq
