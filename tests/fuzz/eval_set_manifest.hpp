// The fixed manifest of fuzz_eval_set.cpp's odd mode (stories-v1's slices
// and dimensions, one data file items.jsonl with this sha256), shared with
// the seeds tests/reliability/eval_fuzz_seeds.cpp writes.
#pragma once

#include <string>

namespace vkq::fuzz {
std::string eval_set_manifest(const std::string& items_sha256);
}  // namespace vkq::fuzz
