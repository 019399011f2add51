#include "block_grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace vkq::quant {

bool is_block_type(GgmlType t) { return t == GgmlType::Q4_0 || t == GgmlType::Q4_1 || t == GgmlType::Q8_0; }

BlockGrid block_grid(GgmlType t, const float* x) {
  BlockGrid g;
  float d = 0;
  switch (t) {
    case GgmlType::Q4_0: {
      float amax = 0, max = 0;
      for (uint32_t j = 0; j < kQK; ++j)
        if (amax < std::fabs(x[j])) {
          amax = std::fabs(x[j]);
          max = x[j];
        }
      d = max / -8.0f;
      break;
    }
    case GgmlType::Q4_1: {
      float mn = x[0], mx = x[0];
      for (uint32_t j = 1; j < kQK; ++j) {
        mn = std::min(mn, x[j]);
        mx = std::max(mx, x[j]);
      }
      d = (mx - mn) / 15.0f;
      g.min = mn;
      g.m16 = fp32_to_fp16(mn);
      g.m = fp16_to_fp32(g.m16);
      break;
    }
    case GgmlType::Q8_0: {
      float amax = 0;
      for (uint32_t j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
      d = amax / 127.0f;
      break;
    }
    default: throw std::invalid_argument("block_grid: not a block type");
  }
  g.id = d != 0.0f ? 1.0f / d : 0.0f;
  g.d16 = fp32_to_fp16(d);
  g.d = fp16_to_fp32(g.d16);
  return g;
}

namespace {

// quant_blocks.cpp's conversions: truncation of a value >= 0 (ggml's
// (int8_t)(v) after + 8.5 / + 0.5), and roundf; NaN and out-of-range values
// cannot reach an undefined float -> int conversion.
inline int trunc_nibble(float v) {
  if (!(v >= 0.0f)) return 0;
  if (v >= 15.0f) return 15;
  return static_cast<int>(v);
}

inline int round_q8(float v) {
  if (!(v > -128.0f)) return v != v ? 0 : -128;
  if (v >= 127.0f) return 127;
  return static_cast<int>(std::roundf(v));
}

}  // namespace

int quantize_value(GgmlType t, const BlockGrid& g, float x) {
  switch (t) {
    case GgmlType::Q4_0: return trunc_nibble(x * g.id + 8.5f);
    case GgmlType::Q4_1: return trunc_nibble((x - g.min) * g.id + 0.5f);
    case GgmlType::Q8_0: return round_q8(x * g.id);
    default: throw std::invalid_argument("quantize_value: not a block type");
  }
}

float dequantize_value(GgmlType t, const BlockGrid& g, int q) {
  switch (t) {
    case GgmlType::Q4_0: return float(q - 8) * g.d;
    case GgmlType::Q4_1: return float(q) * g.d + g.m;
    case GgmlType::Q8_0: return float(q) * g.d;
    default: throw std::invalid_argument("dequantize_value: not a block type");
  }
}

void pack_block(GgmlType t, const BlockGrid& g, const int* q, uint8_t* out) {
  switch (t) {
    case GgmlType::Q4_0: {
      BlockQ4_0 b;
      b.d = g.d16;
      for (uint32_t j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | (q[j + kQK / 2] << 4));
      std::memcpy(out, &b, sizeof b);
      return;
    }
    case GgmlType::Q4_1: {
      BlockQ4_1 b;
      b.d = g.d16;
      b.m = g.m16;
      for (uint32_t j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | (q[j + kQK / 2] << 4));
      std::memcpy(out, &b, sizeof b);
      return;
    }
    case GgmlType::Q8_0: {
      BlockQ8_0 b;
      b.d = g.d16;
      for (uint32_t j = 0; j < kQK; ++j) b.qs[j] = static_cast<int8_t>(q[j]);
      std::memcpy(out, &b, sizeof b);
      return;
    }
    default: throw std::invalid_argument("pack_block: not a block type");
  }
}

}  // namespace vkq::quant
