// Buffer: a VkBuffer with its own VkDeviceMemory, used as a storage buffer.
//   MemoryKind::device  device-local (weights, activations, KV cache);
//                       uploads/downloads go through a staging buffer unless
//                       the memory is also host-visible (UMA, ReBAR, lavapipe).
//   MemoryKind::host    host-visible and coherent (staging, readback).
//   MemoryKind::upload  host-visible and coherent, device-local where the
//                       device has such memory (a BAR): small inputs the host
//                       writes before each submit and many kernels read
//                       (the decode position), so the GPU reads its own
//                       memory, not the host's across the bus. The host
//                       only writes it (reads of BAR memory are slow).
#pragma once

#include <cstdint>
#include <span>

#include "device.hpp"
#include "vulkan.hpp"

namespace vkq {

enum class MemoryKind { device, host, upload };

class Buffer {
 public:
  Buffer() = default;
  Buffer(Device& device, uint64_t bytes, MemoryKind kind = MemoryKind::device);
  ~Buffer();
  Buffer(Buffer&&) noexcept;
  Buffer& operator=(Buffer&&) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  uint64_t size() const { return size_; }
  vk::Buffer handle() const { return *buffer_; }
  bool host_visible() const { return mapped_ != nullptr; }
  explicit operator bool() const { return size_ != 0; }

  void upload(const void* src, uint64_t bytes, uint64_t offset = 0);
  void download(void* dst, uint64_t bytes, uint64_t offset = 0) const;
  template <class T>
  void upload(std::span<const T> s, uint64_t offset = 0) { upload(s.data(), s.size_bytes(), offset); }
  template <class T>
  void download(std::span<T> s, uint64_t offset = 0) const { download(s.data(), s.size_bytes(), offset); }
  // Fills with a 32-bit pattern (tests poison outputs with NaN this way).
  void fill(uint32_t pattern);

 private:
  Device* device_ = nullptr;
  uint64_t size_ = 0;
  uint64_t alloc_size_ = 0;
  vk::raii::Buffer buffer_{nullptr};
  vk::raii::DeviceMemory memory_{nullptr};
  void* mapped_ = nullptr;
};

}  // namespace vkq
