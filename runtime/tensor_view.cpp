#include "tensor_view.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "quant_blocks.hpp"

namespace vkq {

TensorView TensorView::make(std::string name, GgmlType type, uint64_t cols, uint64_t rows, const void* data) {
  const auto rb = ggml_row_bytes(type, cols);
  if (!rb)
    throw InputError(fmt::format("tensor '{}': rows of {} weights are not whole {} blocks", name, cols,
                                 ggml_type_name(type)));
  return {std::move(name), type, cols, rows, *rb, static_cast<const uint8_t*>(data)};
}

void TensorView::dequantize_row(uint64_t r, float* out) const {
  vkq::dequantize_row(type, row(r), out, static_cast<size_t>(cols));
}

std::vector<float> TensorView::to_floats() const {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (uint64_t r = 0; r < rows; ++r) dequantize_row(r, out.data() + r * cols);
  return out;
}

}  // namespace vkq
