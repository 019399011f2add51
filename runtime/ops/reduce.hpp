// Row reductions: out[r] = sum_c in[r * cols + c] (fp32 in and out, fp32
// accumulation on the GPU). Variants: subgroup arithmetic, shared-memory tree.
#pragma once

#include <span>

#include "buffer.hpp"
#include "command_stream.hpp"

namespace vkq::ops {

// CPU reference, accumulating in fp64.
void reduce_sum_rows_ref(std::span<const float> in, uint32_t rows, uint32_t cols, std::span<float> out);

class ReduceSumRows {
 public:
  explicit ReduceSumRows(Device& device, const std::string& forced_variant = {});
  // Bindings: in[rows * cols], out[rows].
  void record(CommandStream& cs, const Buffer& in, const Buffer& out, uint32_t rows, uint32_t cols) const;
  const std::string& variant() const { return variant_; }
  uint32_t workgroup_size() const { return wg_; }

 private:
  Device& device_;
  std::string variant_;
  uint32_t wg_;
  const Kernel* kernel_;
};

}  // namespace vkq::ops
