// Push-constant blocks shared by GLSL and C++: declared once here.
//
// In C++ each block is a struct in namespace vkq::pc with a size check.
// In GLSL a shader defines VKQ_PC_<NAME> before including this file and gets
// `layout(push_constant) uniform <Name> { ... } pc;`.
// Only 4-byte scalars (u32, i32, f32) are used, so std430 push-constant layout
// and the C++ layout agree member for member.
#ifndef VKQ_PUSH_CONSTANTS_H
#define VKQ_PUSH_CONSTANTS_H

#ifdef __cplusplus
#include <cstdint>
namespace vkq::pc {
using u32 = std::uint32_t;
using i32 = std::int32_t;
using f32 = float;
#define VKQ_PC_BEGIN(Name) struct Name {
#define VKQ_PC_END(Name, bytes) }; static_assert(sizeof(Name) == (bytes), #Name " size must match GLSL");
#else
#define u32 uint
#define i32 int
#define f32 float
#define VKQ_PC_BEGIN(Name) layout(push_constant) uniform Name {
#define VKQ_PC_END(Name, bytes) } pc;
#endif

// elementwise_add.comp: z[i] = x[i] + y[i], i < n; copy_buffer.comp: n uvec4s.
#if defined(__cplusplus) || defined(VKQ_PC_ELEMENTWISE)
VKQ_PC_BEGIN(Elementwise)
  u32 n;          // number of elements
VKQ_PC_END(Elementwise, 4)
#endif

// reduce_sum.comp: out[r] = sum_c in[r * cols + c], r < rows.
#if defined(__cplusplus) || defined(VKQ_PC_REDUCE_ROWS)
VKQ_PC_BEGIN(ReduceRows)
  u32 rows;
  u32 cols;
  u32 rows_per_grid_x;  // rows are spread over a 2-D grid: r = x + y * rows_per_grid_x
VKQ_PC_END(ReduceRows, 12)
#endif

// matvec.comp / matmul_*.comp: Y[j][row0 + i] = sum_k W[i][k] * X[j][k] for
// i < rows (one chunk of weight rows), k < K, j < n activation columns.
#if defined(__cplusplus) || defined(VKQ_PC_MATMUL)
VKQ_PC_BEGIN(Matmul)
  u32 rows;        // weight rows in this chunk (M of the chunk)
  u32 K;           // row length in weights (activations per column)
  u32 Kp;          // row length in the GPU layout (K rounded up to 32)
  u32 n;           // activation columns
  u32 x_stride;    // elements between activation columns (>= K, multiple of 4)
  u32 y_stride;    // elements between output columns (>= row0 + rows)
  u32 row0;        // first output row of this chunk
  u32 groups_x;    // workgroups in grid x; group id = x + y * groups_x
VKQ_PC_END(Matmul, 32)
#endif

// quantize_q8_1.comp: activations X[j][k] (k < K, j < n) -> int8 blocks of 32
// with (d, d * sum q) per block, for the integer-dot GEMV.
#if defined(__cplusplus) || defined(VKQ_PC_QUANTIZE_ACT)
VKQ_PC_BEGIN(QuantizeAct)
  u32 K;         // multiple of 32
  u32 n;
  u32 x_stride;  // elements between activation columns
  u32 groups_x;
VKQ_PC_END(QuantizeAct, 16)
#endif

#ifdef __cplusplus
}  // namespace vkq::pc
#endif
#undef VKQ_PC_BEGIN
#undef VKQ_PC_END
#ifndef __cplusplus
#undef u32
#undef i32
#undef f32
#endif
#endif  // VKQ_PUSH_CONSTANTS_H
