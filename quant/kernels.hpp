// The quantizer's hot loops, compiled twice: for the baseline x86-64 (or
// whatever the target is) and, on x86-64, for AVX2 + FMA (kernels_avx2.cpp),
// chosen at run time from the CPU (VKQ_QUANT_KERNELS=generic forces the
// baseline). Eigen's matrix products are most of the work, and their speed
// is set at compile time by the instruction set: AVX2 + FMA runs them about
// three times faster than SSE2, which the GPTQ target (a 4096 x 4096 layer
// with 65,536 tokens in under 30 s on 2 cores) needs.
//
// The interface is plain pointers and PODs so that the AVX2 object shares
// no inline function with the rest of the program (its Eigen lives in a
// renamed namespace; the build checks the object's weak symbols), and the
// binary still runs on CPUs without AVX2.
//
// Matrices are column-major (Eigen's default) unless said otherwise.
#pragma once

#include <cstdint>

#include "block_grid.hpp"
#include "ggml_types.hpp"

namespace vkq::quant::kernels {

// One slice of rows through GPTQ's column loop (gptq.hpp).
struct GptqSlice {
  const float* W = nullptr;        // [rows][cols] row-major, natural column order
  uint64_t cols = 0, r0 = 0, nr = 0;  // the slice: rows r0 .. r0 + nr - 1
  const uint32_t* perm = nullptr;  // perm[p]: the natural column processed at position p
  const uint32_t* pos_of = nullptr;  // inverse of perm
  const uint8_t* dead = nullptr;   // [cols]: 1 for a dead input (its weights are zeroed)
  const double* U = nullptr;       // cols x cols, upper triangular, in processing order
  GgmlType type = GgmlType::Q4_0;
  uint32_t batch = 128;            // lazy batch width, a multiple of 32
  uint32_t block_bytes = 0;        // bytes of one GGUF block of `type`
  uint8_t* out = nullptr;          // GGUF rows, row_bytes apart (the whole matrix)
  uint64_t row_bytes = 0;
  float* deq = nullptr;            // [rows][cols] row-major dequantized weights (the whole matrix)
  // Scratch, caller-allocated: nr * cols / 32 grids, nr * cols codes, cols / 32 flags.
  BlockGrid* grid = nullptr;
  int* code = nullptr;
  uint8_t* have_grid = nullptr;
};

struct Table {
  const char* name;  // "avx2" or "generic"
  // lower(c0 .., c0 .. c0 + w) += X(:, c0 ..)^T X(:, c0 .. c0 + w) for X
  // [n][d] row-major, the d x d fp64 `lower` column-major; products in
  // fp32 over `chunk` tokens at a time, each added in fp64.
  void (*gram_panel)(const float* x, uint64_t n, uint64_t d, uint64_t c0, uint64_t w, uint64_t chunk, double* lower);
  // (H + diag_add I) = R R^T with R upper triangular (the Cholesky factor
  // of H with rows and columns reversed, reversed back) into r; false when
  // the matrix is not positive definite. H: n x n symmetric.
  bool (*reversed_cholesky)(const double* h, uint64_t n, double diag_add, double* r);
  // Columns c0 .. c0 + w - 1 of R^-1 (upper triangular) into u (n x n; the
  // rest of those columns zeroed).
  void (*upper_inverse_cols)(const double* r, uint64_t n, uint64_t c0, uint64_t w, double* u);
  void (*gptq_slice)(const GptqSlice& s);
};

const Table& table();          // the fastest the CPU runs
const Table& generic_table();  // the baseline build, on every CPU

}  // namespace vkq::quant::kernels
