// Which type each tensor of a model is written in:
//   - 1-D tensors (norms, rope_freqs) stay F32, as llama.cpp keeps them;
//   - a matrix (2-D or more) that a --keep glob matches (fnmatch on the
//     name, the first matching glob wins) gets the glob's type;
//   - any other matrix gets the target type, token_embd included (as
//     llama-quantize does for Q4_0/Q4_1/Q8_0);
//   - either way, a matrix whose rows are not a whole number of the type's
//     blocks (stories260K's FFN down projection: rows of 172) is written
//     F16, llama-quantize's last fallback, or F32 if a weight lies outside
//     F16's range; the note says so.
// The input must not be quantized already: each matrix is F32, F16 or BF16.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ggml_types.hpp"

namespace vkq {
class GgufFile;
}

namespace vkq::quant {

struct TensorPlan {
  std::string name;
  GgmlType type = GgmlType::F32;  // as written
  bool matrix = false;            // 2-D or more (quantizable)
  std::string note;               // why the type differs from the target, if it does
};

// InputError (exit 2) for an already-quantized input or a --keep glob that
// matches no matrix.
std::vector<TensorPlan> plan_tensors(const GgufFile& in, GgmlType target,
                                     const std::vector<std::pair<std::string, GgmlType>>& keep);

}  // namespace vkq::quant
