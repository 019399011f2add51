// Random-weight llama models at real shapes (`vkq synth`): for memory-fit,
// load and kernel benchmarks of models that are not on the machine. Weights
// are scaled like trained ones (matrices N(0, 1/in), norms 1 + N(0, 0.02^2)),
// quantized with the RTN block quantizers (quant_blocks.hpp), and written
// streaming, a chunk of rows at a time, so a 70B-shaped file never sits in
// memory. The vocabulary is a placeholder of the right size (SentencePiece
// "llama" model: <unk>, <s>, </s>, the 256 byte tokens, "▁", then "▁tokN").
#pragma once

#include <cstdint>
#include <functional>

#include "byte_sink.hpp"
#include "ggml_types.hpp"
#include "gguf_writer.hpp"
#include "model_configs.hpp"
#include "vocab.hpp"

namespace vkq {

struct SynthOptions {
  GgmlType type = GgmlType::Q4_0;  // every matrix (token_embd and output included); norms F32
  uint64_t seed = 0;
  unsigned threads = 0;  // 0: hardware concurrency, at most 32. The output does not depend on it.
  std::function<void(uint64_t done_bytes, uint64_t total_bytes)> progress;
};

// The placeholder vocabulary: n tokens (ids 0..2 unk/bos/eos, byte tokens
// while room is left, "▁", then normal tokens with decreasing scores).
Vocab placeholder_vocab(uint32_t n);

// The file's layout without its data: metadata and tensor table, so sizes
// can be planned (file_size()) without generating anything.
GgufWriter synth_layout(const ModelConfig& cfg, GgmlType type, uint64_t seed = 0);

void synth_model(const ModelConfig& cfg, ByteSink& out, const SynthOptions& opts);

}  // namespace vkq
