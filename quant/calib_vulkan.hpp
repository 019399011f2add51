// The quantizer's calibration forward pass on a Vulkan device: CalibBatch's
// ops (rmsnorm, linear, attention with RoPE, SwiGLU) through the runtime's
// kernels, with the activations uploaded and read back around each op (the
// pipeline needs every linear layer's full input on the host for its Gram
// matrix). Tokens are processed in chunks so that no binding passes the
// device's maxStorageBufferRange; each window's attention runs over its own
// fp32 KV cache at positions 0 .. L-1, as on the CPU.
//
// Matmuls take the device's GEMM for the chunk (on GPUs with cooperative
// matrices: fp16 inputs, fp32 accumulation), so activations differ from the
// CPU reference's by about 1e-3 relative there; the methods see the same
// statistics to that precision (tests/quant/test_calib_vulkan.cpp).
#pragma once

#include <memory>

#include "calib_forward.hpp"
#include "device.hpp"
#include "ops/llama_ops.hpp"
#include "ops/matmul.hpp"

namespace vkq::quant {

class VulkanCalibBatch final : public CalibBatch {
 public:
  VulkanCalibBatch(Device& device, const LlamaHParams& hp, const std::vector<std::vector<int32_t>>& windows,
                   unsigned threads);
  ~VulkanCalibBatch() override;

  std::string device_name() const override;
  std::vector<float> rmsnorm(std::span<const float> x, std::span<const float> weight) const override;
  std::vector<float> linear(const TensorView& w, std::span<const float> x) const override;
  std::vector<float> attention(std::vector<float> q, std::vector<float> k, std::span<const float> v,
                               std::span<const float> rope_freqs) const override;
  std::vector<float> swiglu(std::span<const float> gate, std::span<const float> up) const override;

 private:
  // Tokens per chunk for rows of `floats_per_token` floats in one binding.
  size_t chunk_tokens(uint64_t floats_per_token) const;

  Device& device_;
  std::unique_ptr<ops::RmsNorm> rmsnorm_;
  std::unique_ptr<ops::Matmul> matmul_;
  std::unique_ptr<ops::RopeKv> rope_kv_;
  std::unique_ptr<ops::Attention> attention_;
  std::unique_ptr<ops::Swiglu> swiglu_;
};

}  // namespace vkq::quant
