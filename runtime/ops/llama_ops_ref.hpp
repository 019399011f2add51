// CPU references for the ops of a llama forward pass, one function per op,
// in llama2.c's style: plain loops over fp32 activations, fp64 accumulation.
// The CPU forward pass (cpu_forward.hpp) is these functions in sequence; the
// Vulkan kernels are tested against the same functions.
//
// Activations are row-major: a batch of n tokens of width w is x[n][w], token
// t at x + t * w. The residual add is add_ref (ops/elementwise.hpp). Weight matrices are TensorViews with ggml's orientation
// (W[out][in]: `rows` outputs of `cols` inputs), any supported type.
#pragma once

#include <cstdint>
#include <span>

#include "tensor_view.hpp"

namespace vkq::ops {

// out[t] = table row tokens[t] (dequantized): the token embedding lookup
// (ggml_get_rows). out: [tokens.size()][table.cols]. InputError for a token
// outside the table.
void embed_ref(const TensorView& table, std::span<const int32_t> tokens, std::span<float> out);

// RMSNorm per row of width w = weight.size(): out = x / sqrt(mean(x^2) + eps) * weight.
// x and out: [n][w] (out may alias x).
void rmsnorm_ref(std::span<const float> x, std::span<const float> weight, float eps, std::span<float> out);

// y[t][i] = sum_k W[i][k] * x[t][k] for n = x.size() / w.cols tokens, one
// dequantized row of W at a time, fp64 accumulation. x: [n][cols], y: [n][rows].
// (Same arithmetic as matmul_ref of the dequant-matmul kernels.)
void linear_ref(const TensorView& w, std::span<const float> x, std::span<float> y);

// RoPE in place on one token's heads, x: [n_heads][head_dim], at position
// `pos`: llama.cpp's LLAMA (non-NeoX) rope, also llama2.c's. Adjacent pairs
// (x[2i], x[2i+1]) for 2i < rope_dims rotate by
//   theta_i = pos * base^(-2i / rope_dims) / freq_factors[i]
// (freq_factors empty = all 1: Llama 3.1's rope_freqs.weight otherwise);
// elements past rope_dims are left as they are.
void rope_ref(std::span<float> x, uint32_t head_dim, uint32_t rope_dims, uint32_t pos, float base,
              std::span<const float> freq_factors = {});

struct AttentionShape {
  uint32_t n_heads = 0;     // query heads
  uint32_t n_kv_heads = 0;  // key/value heads; query head h reads kv head h / (n_heads / n_kv_heads)
  uint32_t head_dim = 0;
};

// Grouped-query attention with a causal mask for n tokens at positions
// start_pos .. start_pos + n - 1, whose keys and values are already in the
// caches: token t attends to cache rows 0 .. start_pos + t.
//   q: [n][n_heads * head_dim]   k_cache, v_cache: [>= start_pos + n][n_kv_heads * head_dim]
//   out: [n][n_heads * head_dim]
// score = q . k / sqrt(head_dim); softmax over the attended rows; out = sum p * v.
void attention_ref(const AttentionShape& shape, std::span<const float> q, uint32_t start_pos,
                   std::span<const float> k_cache, std::span<const float> v_cache, std::span<float> out);

// SwiGLU: out = silu(gate) * up with silu(g) = g / (1 + e^-g). out may alias either input.
void swiglu_ref(std::span<const float> gate, std::span<const float> up, std::span<float> out);

}  // namespace vkq::ops
