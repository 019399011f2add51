#include "gguf_format.hpp"

#include <limits>

#include <fmt/format.h>

#include "gguf_value.hpp"

namespace vkq {

std::string GgufTensorInfo::shape_string() const {
  std::string s;
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? " x " : "") + std::to_string(ne[i]);
  return s;
}

std::string gguf_check_tensor(GgufTensorInfo& t) {
  if (t.name.empty()) return "empty tensor name";
  const std::string tn = fmt::format("tensor '{}'", escape_for_message(t.name));
  if (t.name.size() > kGgufMaxTensorName)
    return fmt::format("{}: name is {} bytes, at most {} allowed", tn, t.name.size(), kGgufMaxTensorName);
  if (t.ne.empty() || t.ne.size() > kGgufMaxDims)
    return fmt::format("{}: {} dimensions, expected 1 to {}", tn, t.ne.size(), kGgufMaxDims);
  uint64_t n = 1;
  for (size_t d = 0; d < t.ne.size(); ++d) {
    if (t.ne[d] == 0) return fmt::format("{}: dimension {} is 0", tn, d);
    if (t.ne[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / n)
      return fmt::format("{}: element count overflows (dimensions {})", tn, GgufTensorInfo{.ne = t.ne}.shape_string());
    n *= t.ne[d];
  }
  const auto& info = ggml_type_info(t.type);
  if (t.ne[0] % info.block_elems)
    return fmt::format("{}: row length {} is not a multiple of the {} block size {}", tn, t.ne[0], info.name,
                       info.block_elems);
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(n / info.block_elems, uint64_t(info.block_bytes), &bytes))
    return fmt::format("{}: byte size overflows", tn);
  t.n_elements = n;
  t.bytes = bytes;
  return {};
}

}  // namespace vkq
