// Dequant-matmul: Y[j][i] = sum_k W[i][k] * X[j][k] for a weight matrix W
// (GpuMatrix, any supported type) and n activation columns X (fp32 or fp16).
// n <= 8 runs the decode GEMV (memory-bound); larger n runs the prefill GEMM
// when one exists for the type and device, else the GEMV 8 columns at a time.
// The variant is chosen in variant_select (from DeviceCaps after
// VKQ_DEVICE_PROFILE) and reported by variant_for().
#pragma once

#include <span>
#include <string>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "gpu_weights.hpp"

namespace vkq::ops {

enum class ActType { f32, f16 };

// CPU reference: fp64 accumulation over dequantized weights.
// w: M rows in GGUF layout; x: n columns of K (stride x_stride); y: n x M.
void matmul_ref(GgmlType t, const void* w, uint32_t M, uint32_t K, const float* x, uint32_t n, uint32_t x_stride,
                float* y);

struct MatmulTuning {
  uint32_t wg = 0;    // GEMV workgroup size (0 = default)
  uint32_t rows = 0;  // GEMV rows per workgroup (0 = default)
  uint32_t unroll = 0;  // integer-dot GEMV: granules in flight per invocation (0 = default)
};

class Matmul {
 public:
  Matmul(Device& device, GgmlType wtype, ActType act, std::string forced_variant = {}, MatmulTuning tuning = {});

  // X: n columns of W.cols() activations, column j at element j * x_stride
  // (0 = K); Y: n columns at j * y_stride (0 = M). Outputs are overwritten.
  void record(CommandStream& cs, const GpuMatrix& w, const Buffer& x, const Buffer& y, uint32_t n,
              uint32_t x_stride = 0, uint32_t y_stride = 0);
  std::string variant_for(uint32_t n) const;

 private:
  const Kernel& gemv_kernel(uint32_t ncols);
  // Scratch for quantized activations (_idot variants). Buffers are only
  // added, never replaced, while the op lives: recorded streams may still
  // reference the older ones.
  const Buffer& scratch(std::vector<Buffer>& pool, uint64_t bytes);

  Device& device_;
  GgmlType wtype_;
  ActType act_;
  std::string gemv_variant_;
  bool idot_ = false;
  std::string quantize_variant_;
  uint32_t wg_, rows_, unroll_;
  std::vector<Buffer> xq_, xds_;
};

}  // namespace vkq::ops
