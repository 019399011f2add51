// The dimensions of the bundled stories-v1 set (eval/sets/stories-v1/
// manifest.json) as a manifest's "dimensions" array, for the eval sets the
// tests and the eval-set fuzz target write. Header-only: the fuzz targets
// link none of the test support.
#pragma once

#include <nlohmann/json.hpp>

namespace vkq::test {

inline nlohmann::json stories_v1_dimensions() {
  return {
      {{"name", "fidelity"}, {"description", ""}, {"metrics", {"kld", "top1", "delta_p"}}},
      {{"name", "fluency"}, {"description", ""}, {"metrics", {"perplexity"}}},
      {{"name", "grammar"}, {"description", ""}, {"metrics", {"acc_norm", "acc"}}},
      {{"name", "recall"}, {"description", ""}, {"metrics", {"acc_norm", "acc", "match"}}},
      {{"name", "generation"}, {"description", ""}, {"metrics", {"match"}}},
  };
}

}  // namespace vkq::test
