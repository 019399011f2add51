// RoPE as llama.cpp's LLAMA (non-NeoX) rope: the adjacent pair (x[2i],
// x[2i+1]) of a head, for 2i < rope_dims, rotates by
//   theta_i = pos * base^(-2i / rope_dims) / freq_factors[i]
// (no factors: 1). Pairs past rope_dims are left as they are. The caller
// declares `float freq_factors[]` (at least one element) before including.
vec2 rope_rotate(vec2 x, uint i, uint pos, uint rope_dims, float base, uint n_freq_factors) {
  if (2u * i >= rope_dims) return x;
  float theta = float(pos) * pow(base, -float(2u * i) / float(rope_dims));
  if (n_freq_factors != 0u) theta /= freq_factors[i];
  const float c = cos(theta), s = sin(theta);
  return vec2(x.x * c - x.y * s, x.x * s + x.y * c);
}
