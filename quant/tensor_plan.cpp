#include "tensor_plan.hpp"

#include <fnmatch.h>

#include <cmath>

#include <fmt/format.h>

#include "error.hpp"
#include "gguf_reader.hpp"
#include "quant_blocks.hpp"

namespace vkq::quant {
namespace {

bool fits_f16(const GgufTensorInfo& t) {
  if (t.type == GgmlType::F16) return true;
  std::vector<float> row(t.row_length());
  const uint64_t rb = *ggml_row_bytes(t.type, t.row_length());
  for (uint64_t r = 0; r < t.n_rows(); ++r) {
    dequantize_row(t.type, t.data + r * rb, row.data(), row.size());
    for (const float v : row)
      if (std::isfinite(v) && std::fabs(v) > 65504.0f) return false;
  }
  return true;
}

}  // namespace

std::vector<TensorPlan> plan_tensors(const GgufFile& in, GgmlType target,
                                     const std::vector<std::pair<std::string, GgmlType>>& keep) {
  std::vector<bool> keep_used(keep.size(), false);
  std::vector<TensorPlan> plan;
  for (const auto& t : in.tensors()) {
    TensorPlan p{t.name, GgmlType::F32, t.ne.size() >= 2, {}};
    if (p.matrix && t.type != GgmlType::F32 && t.type != GgmlType::F16 && t.type != GgmlType::BF16)
      throw InputError(fmt::format("{}: tensor '{}' is already {}: quantize from the F32, F16 or BF16 model", in.name(),
                                   t.name, ggml_type_name(t.type)),
                       "requantizing a quantized file compounds the rounding errors");
    if (!p.matrix) {
      plan.push_back(std::move(p));
      continue;
    }
    size_t k = 0;
    while (k < keep.size() && ::fnmatch(keep[k].first.c_str(), t.name.c_str(), 0) != 0) ++k;
    const GgmlType want = k < keep.size() ? keep[k].second : target;
    if (k < keep.size()) keep_used[k] = true;
    if (ggml_row_bytes(want, t.row_length())) {
      p.type = want;
      if (k < keep.size()) p.note = fmt::format("kept {} (--keep {})", ggml_type_name(want), keep[k].first);
    } else {
      p.type = fits_f16(t) ? GgmlType::F16 : GgmlType::F32;
      p.note = fmt::format("rows of {}: not a multiple of {}, written {}", t.row_length(),
                           ggml_type_info(want).block_elems, ggml_type_name(p.type));
    }
    plan.push_back(std::move(p));
  }
  for (size_t k = 0; k < keep.size(); ++k)
    if (!keep_used[k]) {
      bool shadowed = false;  // it matches, but an earlier glob took every tensor it matches
      for (const auto& t : in.tensors())
        shadowed |= t.ne.size() >= 2 && ::fnmatch(keep[k].first.c_str(), t.name.c_str(), 0) == 0;
      if (!shadowed)
        throw InputError(fmt::format("--keep {}={}: the glob matches no weight matrix of {}", keep[k].first,
                                     ggml_type_name(keep[k].second), in.name()),
                         "names look like token_embd.weight, blk.0.attn_q.weight, output.weight (see vkq inspect)");
    }
  return plan;
}

}  // namespace vkq::quant
