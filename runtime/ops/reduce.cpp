#include "ops/reduce.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/push_constants.h"
#include "error.hpp"
#include "variant_select.hpp"

namespace vkq::ops {

void reduce_sum_rows_ref(std::span<const float> in, uint32_t rows, uint32_t cols, std::span<float> out) {
  if (in.size() < uint64_t(rows) * cols || out.size() < rows) throw InputError("reduce_sum_rows_ref: size mismatch");
  for (uint32_t r = 0; r < rows; ++r) {
    double acc = 0;
    for (uint32_t c = 0; c < cols; ++c) acc += in[uint64_t(r) * cols + c];
    out[r] = static_cast<float>(acc);
  }
}

ReduceSumRows::ReduceSumRows(Device& device, const std::string& forced)
    : device_(device),
      variant_(select_variant(device, "reduce_sum", forced)),
      // One float of shared memory per invocation (the tree; the subgroup
      // variant needs at most as much).
      wg_(pick_workgroup_size(device.caps(), 256, 4)),
      kernel_(&device.kernel({variant_, {wg_}, sizeof(pc::ReduceRows)})) {}

void ReduceSumRows::record(CommandStream& cs, const Buffer& in, const Buffer& out, uint32_t rows, uint32_t cols) const {
  if (rows == 0 || cols == 0) throw InputError("reduce_sum_rows: empty shape");
  if (in.size() < uint64_t(rows) * cols * 4 || out.size() < uint64_t(rows) * 4)
    throw InputError(fmt::format("reduce_sum_rows: buffers too small for {}x{}", rows, cols));
  const uint32_t max_x = device_.caps().max_workgroup_count[0];
  const uint32_t gx = std::min(rows, max_x);
  const uint32_t gy = (rows + gx - 1) / gx;
  const pc::ReduceRows p{rows, cols, gx};
  cs.dispatch(*kernel_, {in, out}, p, {gx, gy, 1});
}

}  // namespace vkq::ops
