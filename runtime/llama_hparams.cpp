#include "llama_hparams.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

LlamaHParams check_llama_metadata(const GgufMetadata& md) {
  const std::string arch = md.get_string("general.architecture");
  if (arch != "llama")
    throw InputError(fmt::format("{}: key 'general.architecture' is '{}', expected 'llama'", md.source(),
                                 escape_for_message(arch)),
                     "vkq runs llama-architecture models (Llama 2/3, Mistral, TinyLlama, llama2.c)");
  LlamaHParams hp;
  hp.context_length = md.get_u32("llama.context_length");
  hp.embedding_length = md.get_u32("llama.embedding_length");
  hp.block_count = md.get_u32("llama.block_count");
  hp.feed_forward_length = md.get_u32("llama.feed_forward_length");
  hp.head_count = md.get_u32("llama.attention.head_count");
  hp.head_count_kv = md.find_u32("llama.attention.head_count_kv").value_or(hp.head_count);
  hp.rms_norm_eps = static_cast<float>(md.get_float("llama.attention.layer_norm_rms_epsilon"));
  hp.rope_freq_base = static_cast<float>(md.find_float("llama.rope.freq_base").value_or(10000.0));
  const auto& tokens = md.get_strings("tokenizer.ggml.tokens");
  if (tokens.size() > UINT32_MAX) throw InputError(fmt::format("{}: key 'tokenizer.ggml.tokens' is too long", md.source()));
  hp.vocab_size = static_cast<uint32_t>(tokens.size());
  if (const auto n = md.find_u32("llama.vocab_size"); n && *n != hp.vocab_size)
    throw InputError(fmt::format("{}: key 'llama.vocab_size' = {} but 'tokenizer.ggml.tokens' has {} entries",
                                 md.source(), *n, hp.vocab_size));
  if (hp.head_count == 0)
    throw InputError(fmt::format("{}: key 'llama.attention.head_count' is 0", md.source()));
  hp.rope_dimension_count = md.find_u32("llama.rope.dimension_count").value_or(hp.head_dim());
  validate_llama_hparams(hp, md.source());
  return hp;
}

void validate_llama_hparams(const LlamaHParams& hp, const std::string& source) {
  auto fail = [&](const std::string& what) { throw InputError(fmt::format("{}: {}", source, what)); };
  const std::pair<const char*, uint32_t> positive[] = {
      {"context_length", hp.context_length}, {"embedding_length", hp.embedding_length},
      {"block_count", hp.block_count},       {"feed_forward_length", hp.feed_forward_length},
      {"head_count", hp.head_count},         {"head_count_kv", hp.head_count_kv},
      {"vocab_size", hp.vocab_size},         {"rope_dimension_count", hp.rope_dimension_count}};
  for (const auto& [name, v] : positive)
    if (v == 0) fail(fmt::format("{} is 0", name));
  // Far beyond any real model (405B has 126 layers); a config that asks for
  // more is a typo, and would make tables sized by it.
  if (hp.block_count > kMaxLlamaBlocks) fail(fmt::format("block_count {} is more than {}", hp.block_count, kMaxLlamaBlocks));
  if (hp.embedding_length % hp.head_count)
    fail(fmt::format("embedding_length {} is not a multiple of head_count {}", hp.embedding_length, hp.head_count));
  if (hp.head_count % hp.head_count_kv)
    fail(fmt::format("head_count {} is not a multiple of head_count_kv {}", hp.head_count, hp.head_count_kv));
  if (hp.rope_dimension_count > hp.head_dim() || hp.rope_dimension_count % 2)
    fail(fmt::format("rope_dimension_count {} must be even and at most the head size {}", hp.rope_dimension_count,
                     hp.head_dim()));
  if (!(hp.rms_norm_eps > 0.0f) || !std::isfinite(hp.rms_norm_eps))
    fail(fmt::format("layer_norm_rms_epsilon {} must be positive", hp.rms_norm_eps));
  if (!(hp.rope_freq_base > 0.0f) || !std::isfinite(hp.rope_freq_base))
    fail(fmt::format("rope freq_base {} must be positive", hp.rope_freq_base));
}

void set_llama_metadata(GgufMetadata& md, const LlamaHParams& hp) {
  md.set("general.architecture", GgufValue::string("llama"));
  md.set("llama.vocab_size", GgufValue::u32(hp.vocab_size));
  md.set("llama.context_length", GgufValue::u32(hp.context_length));
  md.set("llama.embedding_length", GgufValue::u32(hp.embedding_length));
  md.set("llama.block_count", GgufValue::u32(hp.block_count));
  md.set("llama.feed_forward_length", GgufValue::u32(hp.feed_forward_length));
  md.set("llama.rope.dimension_count", GgufValue::u32(hp.rope_dimension_count));
  md.set("llama.attention.head_count", GgufValue::u32(hp.head_count));
  md.set("llama.attention.head_count_kv", GgufValue::u32(hp.head_count_kv));
  md.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(hp.rms_norm_eps));
  md.set("llama.rope.freq_base", GgufValue::f32(hp.rope_freq_base));
}

uint32_t llama_file_type(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return 0;
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q4_1: return 3;
    case GgmlType::Q8_0: return 7;
    case GgmlType::BF16: return 32;
    default: throw std::invalid_argument("llama_file_type: unsupported type");
  }
}

}  // namespace vkq
