// A weight tensor as the forward passes see it: its type, its shape as rows
// of contiguous weights, and a pointer to its bytes (into a GGUF file's map,
// or any buffer the caller keeps alive). Row r starts at data + r * row_bytes
// and holds `cols` weights of `type` (ggml block layout for block types).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ggml_types.hpp"

namespace vkq {

struct TensorView {
  std::string name;
  GgmlType type = GgmlType::F32;
  uint64_t cols = 0;       // ne[0]: row length = input features
  uint64_t rows = 0;       // ne[1] * ne[2] * ...: output features
  uint64_t row_bytes = 0;  // ggml_row_bytes(type, cols)
  const uint8_t* data = nullptr;

  // A view of `rows` x `cols` weights of `type` at `data`; InputError naming
  // the tensor when cols is not a whole number of blocks of the type.
  static TensorView make(std::string name, GgmlType type, uint64_t cols, uint64_t rows, const void* data);

  const uint8_t* row(uint64_t r) const { return data + r * row_bytes; }
  uint64_t bytes() const { return rows * row_bytes; }
  // Row r as floats; out holds `cols` floats.
  void dequantize_row(uint64_t r, float* out) const;
  // The whole tensor as floats, row-major [rows][cols] (for small tensors: norms).
  std::vector<float> to_floats() const;
};

}  // namespace vkq
