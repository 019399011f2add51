// One 32-value block of activations -> the integer-dot GEMV's 8-bit format
// (llama.cpp's Q8_1 idea): d = amax / 127, q = round(v / d), s = d * sum(q),
// so a weight block (d_w, m_w) dots as d_w * d * sum(q_w * q) + m_w * s.
// Layout (matvec_idot.comp reads it): row j of K values, block b:
//   XQ: 8 uints (4 int8 each, element 4i + c in byte c of word i) at uvec4
//       index (j * K + 32 b) / 16 and the next one;
//   DS: vec2 (d, s) at j * (K / 32) + b.
// Every producer (quantize_q8_1, rmsnorm_q8, attention_*_q8, swiglu_q8)
// uses this one function, so the GEMV sees the same rounding from each.
void quantize_block32(const vec4 v[8], out uvec4 lo, out uvec4 hi, out vec2 ds) {
  float amax = 0.0;
  for (uint i = 0; i < 8; ++i) {
    const vec4 a = abs(v[i]);
    amax = max(amax, max(max(a.x, a.y), max(a.z, a.w)));
  }
  const float d = amax / 127.0;
  const float id_ = d != 0.0 ? 1.0 / d : 0.0;
  int qsum = 0;
  uint words[8];
  for (uint i = 0; i < 8; ++i) {
    const ivec4 q = ivec4(round(v[i] * id_));
    qsum += q.x + q.y + q.z + q.w;
    words[i] = (uint(q.x) & 255u) | ((uint(q.y) & 255u) << 8) | ((uint(q.z) & 255u) << 16) | (uint(q.w) << 24);
  }
  lo = uvec4(words[0], words[1], words[2], words[3]);
  hi = uvec4(words[4], words[5], words[6], words[7]);
  ds = vec2(d, d * float(qsum));
}
