// Test support for the dequant-matmul op (GEMV and GEMM): random quantized
// weights, the GPU result checked against the fp64 CPU reference with a
// per-element bound, and the variants of an op the device can run.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "ggml_types.hpp"
#include "ops/matmul.hpp"

namespace vkq::test {

struct MatmulShape {
  uint32_t M, K, n;
};

// Random weights quantized to `t` in GGUF layout (as a file would hold them).
std::vector<uint8_t> random_weights(GgmlType t, uint32_t M, uint32_t K);

// Runs Y = W X on the GPU with `variant` (forced; "" = the selector's choice)
// on fresh random data, the output poisoned with NaN first, and checks every
// element against the fp64 CPU reference. `max_plane` (bytes, 0 = device
// limit) splits the weights into chunks; `tuning` overrides workgroup and
// tile sizes. With `accumulate`, Y starts as random values Y0 (instead of
// poison) and must end as Y0 + W X. The bound is stated in the .cpp.
// With `dequantized`, W (a block type) goes through ops::DequantF16 into an
// fp16 plane and `variant` is the F16 GEMM's on fp16 activations
// (Matmul::record_plane), as the forward pass's prefill_dequant_f16 path.
void check_matmul(GgmlType t, ops::ActType act, const std::string& variant, MatmulShape s, uint64_t max_plane = 0,
                  const ops::MatmulTuning& tuning = {}, bool accumulate = false, bool dequantized = false);

// check_matmul on every variant of op `<kind>_<type>_<act>` that the device
// can run, on each shape; also checks that the selector's own choice is one
// of them.
void check_every_variant(const char* kind, GgmlType t, ops::ActType act, std::initializer_list<MatmulShape> shapes,
                         uint64_t max_plane = 0);

// The weight types of the matmul op, for GENERATE(from_range(...)).
const std::vector<GgmlType>& matmul_weight_types();

// Variants of `op` that the test device can run, in preference order.
std::vector<std::string> runnable(const std::string& op);

}  // namespace vkq::test
