// Test support for llama models: stories260K variants in other weight types,
// GGUF rewriting (to make inconsistent files), and skipping model-dependent
// tests where the models folder is absent.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch_test_macros.hpp>

#include "ggml_types.hpp"
#include "gguf_value.hpp"
#include "llama_model.hpp"
#include "support/gpu.hpp"

namespace vkq::test {

// Whether VKQ_MODELS_DIR (models_dir()) holds stories260K.bin and tok512.bin.
bool have_stories260k();

// Skips the test case (with a message naming the folder) when the models
// folder is absent.
#define VKQ_REQUIRE_STORIES260K()                                                                       \
  do {                                                                                                 \
    if (!::vkq::test::have_stories260k())                                                              \
      SKIP("no stories260K.bin + tok512.bin in " + ::vkq::test::models_dir() + " (VKQ_MODELS_DIR)");   \
  } while (0)

// ../shared/models/README.md: greedy decoding of "Once upon a time" with BOS.
inline const std::vector<int32_t> kStoriesPromptTokens = {1, 403, 407, 261, 378};
constexpr const char* kStoriesContinuation =
    ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, r";

// A GGUF file taken apart, to edit and write again.
struct GgufParts {
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> ne;
    std::vector<uint8_t> data;
  };
  GgufMetadata metadata;
  std::vector<Tensor> tensors;

  static GgufParts read(const std::vector<uint8_t>& gguf);
  std::vector<uint8_t> write() const;
  Tensor* find(const std::string& name);  // nullptr if absent
  // Gives tensor `name` (which must exist) the shape `ne`, its data cut or
  // zero-padded to match: a well-formed file with a misshapen tensor.
  void reshape(const std::string& name, std::vector<uint64_t> ne);
};

// stories260K (converted as F32, cached) with every tensor of at least two
// dims whose rows are whole blocks of `type` requantized to `type` (the
// others, e.g. ffn_down with rows of 172, stay F32). For F16/BF16, all of them.
// `attn_v`: the value projections in that type instead (a mixed file, as
// llama.cpp's quantization mixes give: q | k | v then are three matrices).
std::vector<uint8_t> stories260k_requantized(GgmlType type, std::optional<GgmlType> attn_v = std::nullopt);

// A model in memory and its bytes (which the model's views point into).
struct LoadedModel {
  std::vector<uint8_t> bytes;
  std::unique_ptr<LlamaModel> model;
  explicit LoadedModel(std::vector<uint8_t> b);
};
// stories260K as F32, or requantized to `type` (stories260k_requantized).
LoadedModel load_stories260k(GgmlType type);

// The prompt "Once upon a time" (BOS first) and the CPU reference's greedy
// continuation: a realistic sequence of n tokens.
std::vector<int32_t> story_tokens(const LlamaModel& m, size_t n);

// Largest |a - b| over largest |b| (largest |a - b| when b is all zeros); a
// NaN or infinity in `a` (an unwritten, poisoned output) gives infinity.
double max_rel_diff(std::span<const float> a, std::span<const float> b);

}  // namespace vkq::test
