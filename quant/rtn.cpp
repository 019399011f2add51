#include "rtn.hpp"

#include <stdexcept>

#include "quant_blocks.hpp"

namespace vkq::quant {

QuantizedMatrix quantize_rtn(GgmlType type, std::span<const float> w, uint64_t rows, uint64_t cols) {
  const auto rb = ggml_row_bytes(type, cols);
  if (!rb || w.size() != rows * cols) throw std::invalid_argument("quantize_rtn: bad shape");
  QuantizedMatrix q{type, rows, cols, std::vector<uint8_t>(rows * *rb), std::vector<float>(rows * cols)};
  for (uint64_t r = 0; r < rows; ++r) {
    quantize_row(type, w.data() + r * cols, q.data.data() + r * *rb, cols);
    dequantize_row(type, q.data.data() + r * *rb, q.weights.data() + r * cols, cols);
  }
  return q;
}

double output_sse(const Eigen::MatrixXd& G, std::span<const float> a, std::span<const float> b, uint64_t rows,
                  uint64_t cols) {
  if (a.size() != rows * cols || b.size() != rows * cols || uint64_t(G.rows()) != cols)
    throw std::invalid_argument("output_sse: bad shape");
  using Rows = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  const Eigen::MatrixXd d = (Rows(a.data(), Eigen::Index(rows), Eigen::Index(cols)) -
                             Rows(b.data(), Eigen::Index(rows), Eigen::Index(cols)))
                                .cast<double>();
  return (d * G).cwiseProduct(d).sum();
}

}  // namespace vkq::quant
