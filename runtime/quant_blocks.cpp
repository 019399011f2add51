#include "quant_blocks.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace vkq {
namespace {

// ggml converts with (int8_t)(v) after adding 8.5 / 0.5, i.e. truncation, for
// values that are >= 0 by construction. Written so that NaN or out-of-range
// input cannot reach an undefined float -> int conversion.
inline uint8_t trunc_nibble(float v) {
  if (!(v >= 0.0f)) return 0;
  if (v >= 15.0f) return 15;
  return static_cast<uint8_t>(static_cast<int>(v));
}

inline int8_t round_q8(float v) {
  if (!(v > -128.0f)) return v != v ? 0 : -128;
  if (v >= 127.0f) return 127;
  return static_cast<int8_t>(std::roundf(v));
}

void quantize_q8_0(const float* x, BlockQ8_0* y, size_t nb) {
  for (size_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.0f;
    for (uint32_t j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (uint32_t j = 0; j < kQK; ++j) y[i].qs[j] = round_q8(x[j] * id);
  }
}

void quantize_q4_0(const float* x, BlockQ4_0* y, size_t nb) {
  for (size_t i = 0; i < nb; ++i, x += kQK) {
    float amax = 0.0f, max = 0.0f;  // the element of largest magnitude, with its sign
    for (uint32_t j = 0; j < kQK; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (uint32_t j = 0; j < kQK / 2; ++j) {
      const uint8_t lo = trunc_nibble(x[j] * id + 8.5f);
      const uint8_t hi = trunc_nibble(x[j + kQK / 2] * id + 8.5f);
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void quantize_q4_1(const float* x, BlockQ4_1* y, size_t nb) {
  for (size_t i = 0; i < nb; ++i, x += kQK) {
    float min = x[0], max = x[0];
    for (uint32_t j = 1; j < kQK; ++j) {
      min = std::min(min, x[j]);
      max = std::max(max, x[j]);
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    for (uint32_t j = 0; j < kQK / 2; ++j) {
      const uint8_t lo = trunc_nibble((x[j] - min) * id + 0.5f);
      const uint8_t hi = trunc_nibble((x[j + kQK / 2] - min) * id + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
  }
}

void check_blocks(GgmlType type, size_t n) {
  const auto& info = ggml_type_info(type);
  if (!info.supported) throw std::invalid_argument(std::string("quant_blocks: unsupported type ") + info.name);
  if (n % info.block_elems)
    throw std::invalid_argument(std::string("quant_blocks: ") + std::to_string(n) + " is not a whole number of " +
                                info.name + " blocks");
}

}  // namespace

void quantize_row(GgmlType type, const float* x, void* out, size_t n) {
  check_blocks(type, n);
  switch (type) {
    case GgmlType::F32: std::memcpy(out, x, n * sizeof(float)); return;
    case GgmlType::F16: {
      auto* y = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) y[i] = fp32_to_fp16(x[i]);
      return;
    }
    case GgmlType::BF16: {
      auto* y = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) y[i] = fp32_to_bf16(x[i]);
      return;
    }
    case GgmlType::Q8_0: quantize_q8_0(x, static_cast<BlockQ8_0*>(out), n / kQK); return;
    case GgmlType::Q4_0: quantize_q4_0(x, static_cast<BlockQ4_0*>(out), n / kQK); return;
    case GgmlType::Q4_1: quantize_q4_1(x, static_cast<BlockQ4_1*>(out), n / kQK); return;
    default: break;
  }
  throw std::invalid_argument("quant_blocks: unhandled type");
}

void dequantize_row(GgmlType type, const void* in, float* y, size_t n) {
  check_blocks(type, n);
  switch (type) {
    case GgmlType::F32: std::memcpy(y, in, n * sizeof(float)); return;
    case GgmlType::F16: {
      const auto* x = static_cast<const uint16_t*>(in);
      for (size_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(x[i]);
      return;
    }
    case GgmlType::BF16: {
      const auto* x = static_cast<const uint16_t*>(in);
      for (size_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(x[i]);
      return;
    }
    case GgmlType::Q8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(in);
      for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
        const float d = fp16_to_fp32(b[i].d);
        for (uint32_t j = 0; j < kQK; ++j) y[j] = float(b[i].qs[j]) * d;
      }
      return;
    }
    case GgmlType::Q4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(in);
      for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
        const float d = fp16_to_fp32(b[i].d);
        for (uint32_t j = 0; j < kQK / 2; ++j) {
          y[j] = float(int(b[i].qs[j] & 0x0f) - 8) * d;
          y[j + kQK / 2] = float(int(b[i].qs[j] >> 4) - 8) * d;
        }
      }
      return;
    }
    case GgmlType::Q4_1: {
      const auto* b = static_cast<const BlockQ4_1*>(in);
      for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
        const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
        for (uint32_t j = 0; j < kQK / 2; ++j) {
          y[j] = float(b[i].qs[j] & 0x0f) * d + m;
          y[j + kQK / 2] = float(b[i].qs[j] >> 4) * d + m;
        }
      }
      return;
    }
    default: break;
  }
  throw std::invalid_argument("quant_blocks: unhandled type");
}

}  // namespace vkq
