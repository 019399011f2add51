// Activation and output bindings of the dequant-matmul kernels, after the
// weight bindings of weights.glsl (include that first):
//   WBINDINGS      X: n columns, column j at element j * x_stride (a multiple
//                  of 4), fp32 read as vec4, or fp16 (ACT_F16) read as uvec2;
//   WBINDINGS + 1  Y: fp32, column j at element j * y_stride.
// load_x4(i) returns elements 4i .. 4i+3 of X as fp32; store_y(i, v) writes
// output i, or adds v to it with pc.accumulate (each output has one writer,
// so the read-modify-write needs no atomics).
#ifdef ACT_F16
layout(std430, binding = WBINDINGS) readonly buffer Act { uvec2 xv[]; };
vec4 load_x4(uint i) {
  const uvec2 u = xv[i];
  return vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
}
#else
layout(std430, binding = WBINDINGS) readonly buffer Act { vec4 xv[]; };
vec4 load_x4(uint i) { return xv[i]; }
#endif
layout(std430, binding = WBINDINGS + 1) buffer Out { float y[]; };
void store_y(uint i, float v) { y[i] = pc.accumulate != 0u ? y[i] + v : v; }
