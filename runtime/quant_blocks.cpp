#include "quant_blocks.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {
namespace {

void check_blocks(GgmlType t, size_t n) {
  if (!ggml_row_bytes(t, n))
    throw InputError(fmt::format("{}: a row of {} weights is not a whole number of {}-weight blocks", ggml_type_name(t),
                                 n, ggml_type_info(t).block_elems));
}

// ggml quantize_row_q4_0_ref: d = max-magnitude element / -8, q = trunc(x/d + 8.5) clamped to 15.
void quantize_q4_0(const float* x, BlockQ4_0* y, size_t nb) {
  for (size_t i = 0; i < nb; ++i) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; ++j) {
      const float v = x[i * 32 + j];
      if (amax < std::fabs(v)) {
        amax = std::fabs(v);
        max = v;
      }
    }
    const float d = max / -8.0f;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < 16; ++j) {
      const float x0 = x[i * 32 + j] * id, x1 = x[i * 32 + 16 + j] * id;
      const uint8_t q0 = std::min<uint8_t>(15, static_cast<uint8_t>(x0 + 8.5f));
      const uint8_t q1 = std::min<uint8_t>(15, static_cast<uint8_t>(x1 + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

// ggml quantize_row_q4_1_ref: d = (max - min) / 15, m = min, q = trunc((x - m)/d + 0.5) clamped to 15.
void quantize_q4_1(const float* x, BlockQ4_1* y, size_t nb) {
  for (size_t i = 0; i < nb; ++i) {
    float mn = INFINITY, mx = -INFINITY;
    for (int j = 0; j < 32; ++j) {
      mn = std::min(mn, x[i * 32 + j]);
      mx = std::max(mx, x[i * 32 + j]);
    }
    const float d = (mx - mn) / 15.0f;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(mn);
    for (int j = 0; j < 16; ++j) {
      const float x0 = (x[i * 32 + j] - mn) * id, x1 = (x[i * 32 + 16 + j] - mn) * id;
      const uint8_t q0 = std::min<uint8_t>(15, static_cast<uint8_t>(x0 + 0.5f));
      const uint8_t q1 = std::min<uint8_t>(15, static_cast<uint8_t>(x1 + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

// ggml quantize_row_q8_0_ref: d = amax / 127, q = roundf(x / d).
void quantize_q8_0(const float* x, BlockQ8_0* y, size_t nb) {
  for (size_t i = 0; i < nb; ++i) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[i * 32 + j]));
    const float d = amax / 127.0f;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < 32; ++j) y[i].qs[j] = static_cast<int8_t>(std::roundf(x[i * 32 + j] * id));
  }
}

}  // namespace

void quantize_row(GgmlType t, const float* x, void* out, size_t n) {
  check_blocks(t, n);
  switch (t) {
    case GgmlType::F32: std::memcpy(out, x, n * 4); return;
    case GgmlType::F16: {
      auto* h = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) h[i] = fp32_to_fp16(x[i]);
      return;
    }
    case GgmlType::BF16: {
      auto* h = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) h[i] = fp32_to_bf16(x[i]);
      return;
    }
    case GgmlType::Q4_0: quantize_q4_0(x, static_cast<BlockQ4_0*>(out), n / 32); return;
    case GgmlType::Q4_1: quantize_q4_1(x, static_cast<BlockQ4_1*>(out), n / 32); return;
    case GgmlType::Q8_0: quantize_q8_0(x, static_cast<BlockQ8_0*>(out), n / 32); return;
    default: throw InputError(fmt::format("{}: not supported yet", ggml_type_name(t)));
  }
}

void dequantize_row(GgmlType t, const void* in, float* y, size_t n) {
  check_blocks(t, n);
  switch (t) {
    case GgmlType::F32: std::memcpy(y, in, n * 4); return;
    case GgmlType::F16: {
      const auto* h = static_cast<const uint16_t*>(in);
      for (size_t i = 0; i < n; ++i) y[i] = fp16_to_fp32(h[i]);
      return;
    }
    case GgmlType::BF16: {
      const auto* h = static_cast<const uint16_t*>(in);
      for (size_t i = 0; i < n; ++i) y[i] = bf16_to_fp32(h[i]);
      return;
    }
    case GgmlType::Q4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(in);
      for (size_t i = 0; i < n / 32; ++i) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < 16; ++j) {
          y[i * 32 + j] = d * (float(b[i].qs[j] & 15) - 8.0f);
          y[i * 32 + 16 + j] = d * (float(b[i].qs[j] >> 4) - 8.0f);
        }
      }
      return;
    }
    case GgmlType::Q4_1: {
      const auto* b = static_cast<const BlockQ4_1*>(in);
      for (size_t i = 0; i < n / 32; ++i) {
        const float d = fp16_to_fp32(b[i].d), m = fp16_to_fp32(b[i].m);
        for (int j = 0; j < 16; ++j) {
          y[i * 32 + j] = d * float(b[i].qs[j] & 15) + m;
          y[i * 32 + 16 + j] = d * float(b[i].qs[j] >> 4) + m;
        }
      }
      return;
    }
    case GgmlType::Q8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(in);
      for (size_t i = 0; i < n / 32; ++i) {
        const float d = fp16_to_fp32(b[i].d);
        for (int j = 0; j < 32; ++j) y[i * 32 + j] = d * float(b[i].qs[j]);
      }
      return;
    }
    default: throw InputError(fmt::format("{}: not supported yet", ggml_type_name(t)));
  }
}

}  // namespace vkq
