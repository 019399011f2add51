// A llama forward pass with its KV cache for up to n_ctx tokens: what text
// generation (generate.hpp), perplexity and the scorecard drive. The CPU
// reference (cpu_forward.hpp) implements it; the Vulkan forward pass
// implements the same interface.
//
// Positions are explicit: decode(token, pos) computes the token at `pos`,
// writes its keys and values into cache row `pos`, and attends to rows
// 0 .. pos, which earlier calls must have filled. Rewinding is calling again
// with a smaller position (later rows are overwritten when reached).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vkq {

class LlamaSession {
 public:
  virtual ~LlamaSession() = default;

  virtual uint32_t n_ctx() const = 0;
  virtual uint32_t n_vocab() const = 0;
  virtual std::string device_name() const = 0;  // "cpu", or the Vulkan device's name

  // Logits [n_vocab] of `token` at `pos`.
  virtual std::vector<float> decode(int32_t token, uint32_t pos) = 0;

  // Batched: tokens at positions start_pos .. start_pos + n - 1 in one pass.
  // Returns the last token's logits [n_vocab], or with all_logits every
  // token's, [n][n_vocab]. Equal (within rounding) to n decode() calls.
  virtual std::vector<float> prefill(std::span<const int32_t> tokens, uint32_t start_pos, bool all_logits = false) = 0;
};

}  // namespace vkq
