// GGML tensor types as GGUF files store them (llama.cpp's ggml type ids and
// block layouts, bit for bit), and fp16/bf16 conversion.
//
// Supported by vkq: F32, F16, BF16, Q8_0, Q4_0, Q4_1. Other ids are known by
// name so that a file using them is refused with "Q4_K: not supported yet".
//
// Block layouts (little-endian, packed, as in ggml-common.h):
//   Q4_0: { fp16 d; uint8 qs[16]; }          18 bytes / 32 weights
//         byte j: low nibble = element j, high nibble = element j + 16;
//         w = d * (q - 8)
//   Q4_1: { fp16 d; fp16 m; uint8 qs[16]; }  20 bytes / 32 weights; w = d * q + m
//   Q8_0: { fp16 d; int8 qs[32]; }           34 bytes / 32 weights; w = d * q
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace vkq {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
  I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

struct GgmlTypeInfo {
  GgmlType type;
  const char* name;       // "Q4_0"
  uint32_t block_elems;   // weights per block (1 for plain types)
  uint32_t block_bytes;   // bytes per block
  bool supported;         // vkq can load and run it
};

constexpr uint32_t kQK = 32;  // weights per block for Q4_0 / Q4_1 / Q8_0

struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
struct BlockQ4_1 { uint16_t d; uint16_t m; uint8_t qs[16]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ8_0) == 34);

// Info for a known type id, or nullopt for an id no ggml version defines.
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t id);
const GgmlTypeInfo& ggml_type_info(GgmlType t);  // known types only
const char* ggml_type_name(GgmlType t);
// Parses "q4_0", "Q8_0", "f16", ... (supported types only); nullopt otherwise.
std::optional<GgmlType> parse_ggml_type(const std::string& name);

// Bytes of a row of `elems` weights; nullopt if elems is not a whole number
// of blocks (llama.cpp refuses such tensors for block types).
std::optional<uint64_t> ggml_row_bytes(GgmlType t, uint64_t elems);

// IEEE half <-> float, round to nearest even (as ggml's GGML_FP32_TO_FP16).
inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; --exp; }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t fp32_to_fp16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000;
  const uint32_t ax = x & 0x7fffffff;
  if (ax >= 0x7f800000) return uint16_t(sign | 0x7c00 | (ax > 0x7f800000 ? 0x200 : 0));  // inf / nan
  if (ax >= 0x477ff000) return uint16_t(sign | 0x7c00);                                 // overflow -> inf
  if (ax < 0x38800000) {  // subnormal or zero in half
    if (ax < 0x33000000) return uint16_t(sign);
    const uint32_t e = ax >> 23, m = (ax & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // 14 + (113 - e)
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t r = ((ax >> 13) - ((127 - 15) << 10));
  const uint32_t rem = ax & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) ++r;
  return uint16_t(sign | r);
}

inline float bf16_to_fp32(uint16_t h) {
  const uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t fp32_to_bf16(float f) {  // round to nearest even, NaN kept quiet
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000) return uint16_t((x >> 16) | 0x40);
  return uint16_t((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}

}  // namespace vkq
