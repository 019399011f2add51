// Weight decoding for the GPU-native layout (runtime/gpu_weights.hpp).
//
// A weight matrix chunk is `rows` rows of Kp weights (K rounded up to 32,
// zero-padded). Its quant plane is read as 16-byte granules (uvec4), G
// weights each, row-major: granule gi of row r is wq[r * (Kp / G) + gi].
//   WTYPE_F32   G = 4   fp32
//   WTYPE_F16   G = 8   fp16
//   WTYPE_BF16  G = 8   bf16
//   WTYPE_Q8_0  G = 16  int8 q, two granules per 32-weight block
//   WTYPE_Q4_0  G = 32  nibbles: byte j low = element j, high = element j+16
//   WTYPE_Q4_1  G = 32  same nibbles
// The scale plane (block types only) holds one entry per 32-weight block,
// row-major, block b of row r at r * (Kp / 32) + b:
//   Q8_0, Q4_0: fp16 d, two per uint (low half first)
//   Q4_1:       uint = fp16 d | fp16 m << 16
// Every block type decodes as w = d * q + m (Q4_0: m = -8 d; Q8_0: m = 0),
// so a dot product is d * sum(q x) + m * sum(x).
//
// Bindings: 0 quant plane; 1 scale plane (block types only).

#if defined(WTYPE_F32)
#define WG_ELEMS 4
#elif defined(WTYPE_F16) || defined(WTYPE_BF16)
#define WG_ELEMS 8
#elif defined(WTYPE_Q8_0)
#define WG_ELEMS 16
#define WQUANT 1
#elif defined(WTYPE_Q4_0) || defined(WTYPE_Q4_1)
#define WG_ELEMS 32
#define WQUANT 1
#else
#error "define one WTYPE_*"
#endif

layout(std430, binding = 0) readonly buffer WeightQuants { uvec4 wq[]; };
#ifdef WQUANT
layout(std430, binding = 1) readonly buffer WeightScales { uint ws[]; };
#define WBINDINGS 2
#else
#define WBINDINGS 1
#endif

// Granule as G/4 vec4s of q (block types) or of weights (plain types):
// q[v][e] is element 4 v + e of the granule for every type (for Q4_0/Q4_1,
// q[0..3] are the low nibbles = elements 0..15, q[4..7] the high ones).
#define WG_VEC4 (WG_ELEMS / 4)

void decode_granule(uvec4 u, out vec4 q[WG_VEC4]) {
#if defined(WTYPE_F32)
  q[0] = uintBitsToFloat(u);
#elif defined(WTYPE_F16)
  q[0] = vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
  q[1] = vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w));
#elif defined(WTYPE_BF16)
  q[0] = vec4(uintBitsToFloat(u.x << 16), uintBitsToFloat(u.x & 0xffff0000u),
              uintBitsToFloat(u.y << 16), uintBitsToFloat(u.y & 0xffff0000u));
  q[1] = vec4(uintBitsToFloat(u.z << 16), uintBitsToFloat(u.z & 0xffff0000u),
              uintBitsToFloat(u.w << 16), uintBitsToFloat(u.w & 0xffff0000u));
#elif defined(WTYPE_Q8_0)
  for (int c = 0; c < 4; ++c) {
    const int w = int(u[c]);
    q[c] = vec4(bitfieldExtract(w, 0, 8), bitfieldExtract(w, 8, 8), bitfieldExtract(w, 16, 8), bitfieldExtract(w, 24, 8));
  }
#else  // Q4_0 / Q4_1: component c = bytes 4c..4c+3 -> elements 4c.. (low), 16+4c.. (high)
  for (int c = 0; c < 4; ++c) {
    const uint w = u[c];
    q[c] = vec4(w & 15u, (w >> 8) & 15u, (w >> 16) & 15u, (w >> 24) & 15u);
    q[4 + c] = vec4((w >> 4) & 15u, (w >> 12) & 15u, (w >> 20) & 15u, w >> 28);
  }
#endif
}

#ifdef WQUANT
// The scale-plane uint that holds block b's scale(s): kernels that prefetch
// into registers load ws[scale_word(b)] early and decode it later.
uint scale_word(uint b) {
#if defined(WTYPE_Q4_1)
  return b;
#else
  return b >> 1;
#endif
}

// (d, m) of block b from its scale-plane uint `word` = ws[scale_word(b)].
vec2 decode_scale(uint word, uint b) {
#if defined(WTYPE_Q4_1)
  return unpackHalf2x16(word);
#else
  const vec2 pair = unpackHalf2x16(word);
  const float d = (b & 1u) != 0u ? pair.y : pair.x;
#if defined(WTYPE_Q4_0)
  return vec2(d, -8.0 * d);
#else
  return vec2(d, 0.0);
#endif
#endif
}

// (d, m) of 32-weight block `b` (index into the chunk's scale plane).
vec2 block_scale(uint b) { return decode_scale(ws[scale_word(b)], b); }
#endif
