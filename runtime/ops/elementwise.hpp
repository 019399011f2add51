// Elementwise ops: z = x + y over fp32 vectors.
#pragma once

#include <span>

#include "buffer.hpp"
#include "command_stream.hpp"

namespace vkq::ops {

// CPU reference.
void add_ref(std::span<const float> x, std::span<const float> y, std::span<float> z);

class Add {
 public:
  explicit Add(Device& device, const std::string& forced_variant = {});
  // Bindings: x[n], y[n], z[n] fp32.
  void record(CommandStream& cs, const Buffer& x, const Buffer& y, const Buffer& z, uint32_t n) const;
  const std::string& variant() const { return variant_; }

 private:
  Device& device_;
  std::string variant_;
  uint32_t wg_;
  const Kernel* kernel_;
};

}  // namespace vkq::ops
