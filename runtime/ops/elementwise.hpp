// Elementwise ops: z = x + y over fp32 vectors; fp32 -> fp16.
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

// CPU reference: h[i] = fp16 bits of x[i] (round to nearest even).
void convert_f16_ref(std::span<const float> x, std::span<uint16_t> h);

// h = fp16(x) over n elements (a multiple of 4), element for element: the
// fp16 copy of a prefill GEMM's activations where the device's GEMM on fp16
// activations is the faster one (VulkanForward).
class ConvertF16 {
 public:
  explicit ConvertF16(Device& device);
  // Bindings: x[n] fp32, h[n] fp16.
  void record(CommandStream& cs, const Buffer& x, const Buffer& h, uint64_t n) const;

 private:
  uint32_t wg_;
  const Kernel* kernel_;
};

}  // namespace vkq::ops
