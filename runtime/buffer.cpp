#include "buffer.hpp"

#include <cstring>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

Buffer::Buffer(Device& device, uint64_t bytes, MemoryKind kind) : device_(&device), size_(bytes) {
  if (bytes == 0) throw InputError("cannot create an empty buffer");
  vk::BufferCreateInfo bi{};
  bi.size = bytes;
  bi.usage = vk::BufferUsageFlagBits::eStorageBuffer | vk::BufferUsageFlagBits::eTransferSrc |
             vk::BufferUsageFlagBits::eTransferDst;
  bi.sharingMode = vk::SharingMode::eExclusive;
  try {
    buffer_ = vk::raii::Buffer(device.vk(), bi);
  } catch (const vk::SystemError& e) {
    throw DeviceError(fmt::format("device '{}': vkCreateBuffer of {} failed: {}", device.caps().name,
                                  format_bytes(bytes), e.what()));
  }
  const auto req = buffer_.getMemoryRequirements();
  bool hv = false;
  if (kind == MemoryKind::device) {
    memory_ = device.allocate(req, vk::MemoryPropertyFlagBits::eDeviceLocal, {}, &hv);
  } else {
    const auto prefer =
        kind == MemoryKind::upload ? vk::MemoryPropertyFlagBits::eDeviceLocal : vk::MemoryPropertyFlagBits::eHostCached;
    memory_ = device.allocate(req, vk::MemoryPropertyFlagBits::eHostVisible | vk::MemoryPropertyFlagBits::eHostCoherent,
                              prefer, &hv);
  }
  alloc_size_ = req.size;
  buffer_.bindMemory(*memory_, 0);
  // Device-local memory that is also host-visible is mapped too: no staging.
  if (hv) mapped_ = memory_.mapMemory(0, VK_WHOLE_SIZE);
}

Buffer::~Buffer() {
  if (device_ && alloc_size_) device_->release(alloc_size_);
}

Buffer::Buffer(Buffer&& o) noexcept
    : device_(o.device_), size_(o.size_), alloc_size_(o.alloc_size_), buffer_(std::move(o.buffer_)),
      memory_(std::move(o.memory_)), mapped_(o.mapped_) {
  o.device_ = nullptr;
  o.size_ = o.alloc_size_ = 0;
  o.mapped_ = nullptr;
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    if (device_ && alloc_size_) device_->release(alloc_size_);
    buffer_ = std::move(o.buffer_);
    memory_ = std::move(o.memory_);
    device_ = o.device_;
    size_ = o.size_;
    alloc_size_ = o.alloc_size_;
    mapped_ = o.mapped_;
    o.device_ = nullptr;
    o.size_ = o.alloc_size_ = 0;
    o.mapped_ = nullptr;
  }
  return *this;
}

void Buffer::upload(const void* src, uint64_t bytes, uint64_t offset) {
  if (offset > size_ || bytes > size_ - offset)
    throw InputError(fmt::format("upload of {} bytes at {} overruns a buffer of {}", bytes, offset, size_));
  if (bytes == 0) return;
  if (mapped_) {
    std::memcpy(static_cast<char*>(mapped_) + offset, src, bytes);
    return;
  }
  Buffer staging(*device_, bytes, MemoryKind::host);
  staging.upload(src, bytes);
  device_->run_once([&](const vk::raii::CommandBuffer& cb) {
    cb.copyBuffer(staging.handle(), *buffer_, vk::BufferCopy{0, offset, bytes});
  });
}

void Buffer::download(void* dst, uint64_t bytes, uint64_t offset) const {
  if (offset > size_ || bytes > size_ - offset)
    throw InputError(fmt::format("download of {} bytes at {} overruns a buffer of {}", bytes, offset, size_));
  if (bytes == 0) return;
  if (mapped_) {
    std::memcpy(dst, static_cast<const char*>(mapped_) + offset, bytes);
    return;
  }
  Buffer staging(*device_, bytes, MemoryKind::host);
  device_->run_once([&](const vk::raii::CommandBuffer& cb) {
    cb.copyBuffer(*buffer_, staging.handle(), vk::BufferCopy{offset, 0, bytes});
  });
  staging.download(dst, bytes);
}

void Buffer::fill(uint32_t pattern) {
  device_->run_once([&](const vk::raii::CommandBuffer& cb) { cb.fillBuffer(*buffer_, 0, VK_WHOLE_SIZE, pattern); });
}

}  // namespace vkq
