// Pieces of the GGUF format shared by the reader and the writer: limits, the
// tensor info record, and the shape/type check both apply to every tensor.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ggml_types.hpp"

namespace vkq {

constexpr uint32_t kGgufVersion = 3;  // written; 2 is read too (same layout)
constexpr uint32_t kGgufDefaultAlignment = 32;
constexpr size_t kGgufMaxDims = 4;
constexpr size_t kGgufMaxTensorName = 63;  // ggml's GGML_MAX_NAME (64) minus the terminator
constexpr int kGgufMaxArrayNesting = 8;    // arrays of arrays deeper than this are refused

struct GgufTensorInfo {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<uint64_t> ne;  // 1..4 dims, ggml order (ne[0] = row length)
  uint64_t n_elements = 0;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t bytes = 0;
  const uint8_t* data = nullptr;  // reader: into the file's map (or the caller's buffer)

  uint64_t row_length() const { return ne.empty() ? 0 : ne[0]; }
  uint64_t n_rows() const { return ne.empty() ? 0 : n_elements / ne[0]; }
  std::span<const uint8_t> span() const { return {data, static_cast<size_t>(bytes)}; }
  std::string shape_string() const;  // "64 x 512"
};

// Checks t.name (1..63 bytes), t.ne (1..4 dims, none 0, element count below
// 2^63) and that rows are whole blocks of t.type; fills t.n_elements and
// t.bytes. Returns an empty string, or what is wrong (without a file prefix).
std::string gguf_check_tensor(GgufTensorInfo& t);

inline uint64_t gguf_align(uint64_t v, uint64_t alignment) { return (v + alignment - 1) / alignment * alignment; }

}  // namespace vkq
