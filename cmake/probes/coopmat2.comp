#version 450
// Toolchain probe (cmake/VkqToolchain.cmake): GL_NV_cooperative_matrix2's
// workgroup-scope matrices, tensor layouts and decode functions
// (shaders/matmul_cm2.comp) compile and validate.
#extension GL_KHR_cooperative_matrix : require
#extension GL_NV_cooperative_matrix2 : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types : require
#extension GL_EXT_buffer_reference : require
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer A { uvec4 a[]; };
layout(std430, binding = 1) buffer C { float c[]; };
layout(buffer_reference, std430, buffer_reference_align = 16) readonly buffer Block { uvec4 q; };
float16_t decode(const in Block b, const in uint32_t bc[2], const in uint32_t ci[2]) {
  return float16_t(float(b.q[ci[1] >> 3] >> (4u * (ci[1] & 7u)) & 15u));
}
void main() {
  tensorLayoutNV<2, gl_CooperativeMatrixClampModeConstantNV> t = createTensorLayoutNV(2, gl_CooperativeMatrixClampModeConstantNV);
  t = setTensorLayoutBlockSizeNV(t, 1, 32);
  t = setTensorLayoutDimensionNV(t, 64, 64);
  coopmat<float16_t, gl_ScopeWorkgroup, 32, 32, gl_MatrixUseA> m;
  coopMatLoadTensorNV(m, a, 0, sliceTensorLayoutNV(t, 0, 32, 0, 32), decode);
  coopmat<float, gl_ScopeWorkgroup, 32, 32, gl_MatrixUseAccumulator> r =
      coopMatMulAdd(m, coopmat<float16_t, gl_ScopeWorkgroup, 32, 32, gl_MatrixUseB>(1.0),
                    coopmat<float, gl_ScopeWorkgroup, 32, 32, gl_MatrixUseAccumulator>(0.0));
  tensorLayoutNV<2> tc = createTensorLayoutNV(2);
  tc = setTensorLayoutDimensionNV(tc, 32, 32);
  coopMatStoreTensorNV(r, c, 0, tc);
}
