// Fixtures for the scorecard tests: eval sets written into a folder (with a
// correct manifest), subsets of the bundled stories-v1 set, stories260K
// variants as GGUF files (requantized, or with noise added to the weights),
// and configs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ggml_types.hpp"

namespace vkq::test {

// The manifest the tests use: slices a and b (or those given), the five
// dimensions of stories-v1.
nlohmann::json test_manifest(const std::string& name, const std::vector<std::string>& slices = {"a", "b"});

// Writes `items` (one JSON object per line) and a manifest whose sha256
// matches into `dir`; returns dir.
std::filesystem::path write_eval_set(const std::filesystem::path& dir, const std::vector<nlohmann::json>& items,
                                     nlohmann::json manifest);

// The bundled set's folder (eval/sets/stories-v1 in the source tree).
std::filesystem::path bundled_set_dir();
// The first `per_slice_kind` items of each (slice, kind) of the bundled set,
// written as a set named `name` (same slices and dimensions).
std::filesystem::path write_bundled_subset(const std::filesystem::path& dir, size_t per_slice_kind,
                                           const std::string& name = "stories-subset");

// stories260K in `type` (F32: converted; else requantized) written to `path`.
std::filesystem::path write_stories(const std::filesystem::path& path, GgmlType type);
// stories260K F32 with Gaussian noise of `sigma` times each matrix's RMS
// added to every matrix (a deliberately damaged variant), seeded.
std::filesystem::path write_noisy_stories(const std::filesystem::path& path, double sigma, uint64_t seed);

}  // namespace vkq::test
