#include "llama_tensors.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "gguf_reader.hpp"

namespace vkq {

uint64_t LlamaTensorSpec::n_elements() const {
  uint64_t n = 1;
  for (const auto d : ne) n *= d;
  return n;
}

std::vector<LlamaTensorSpec> llama_tensor_specs(const LlamaHParams& hp, const LlamaTensorOptions& opts) {
  using K = LlamaTensorKind;
  const uint64_t dim = hp.embedding_length, kv = hp.kv_dim(), ff = hp.feed_forward_length, vocab = hp.vocab_size;
  std::vector<LlamaTensorSpec> s;
  s.push_back({"token_embd.weight", {dim, vocab}, K::embedding});
  if (opts.rope_freqs) s.push_back({"rope_freqs.weight", {hp.head_dim() / 2}, K::rope_freqs});
  for (uint32_t l = 0; l < hp.block_count; ++l) {
    auto n = [l](const char* t) { return fmt::format("blk.{}.{}.weight", l, t); };
    s.push_back({n("attn_norm"), {dim}, K::norm});
    s.push_back({n("attn_q"), {dim, dim}, K::matrix});
    s.push_back({n("attn_k"), {dim, kv}, K::matrix});
    s.push_back({n("attn_v"), {dim, kv}, K::matrix});
    s.push_back({n("attn_output"), {dim, dim}, K::matrix});
    s.push_back({n("ffn_norm"), {dim}, K::norm});
    s.push_back({n("ffn_gate"), {dim, ff}, K::matrix});
    s.push_back({n("ffn_up"), {dim, ff}, K::matrix});
    s.push_back({n("ffn_down"), {ff, dim}, K::matrix});
  }
  s.push_back({"output_norm.weight", {dim}, K::norm});
  if (!opts.tied_output) s.push_back({"output.weight", {dim, vocab}, K::output});
  return s;
}

void check_llama_tensors(const GgufFile& file, const LlamaHParams& hp) {
  // Counted before the expected table is built: block_count comes from the
  // file, and the table has 9 entries per block.
  const uint64_t needed = 9ull * hp.block_count + 2;
  if (needed > file.tensors().size())
    throw InputError(fmt::format("{}: llama.block_count = {} needs at least {} tensors, the file has {}", file.name(),
                                 hp.block_count, needed, file.tensors().size()));
  for (const auto& spec : llama_tensor_specs(hp, {.tied_output = false, .rope_freqs = true})) {
    const auto* t = file.find_tensor(spec.name);
    if (!t) {
      if (spec.kind == LlamaTensorKind::output || spec.kind == LlamaTensorKind::rope_freqs) continue;
      throw InputError(fmt::format("{}: tensor '{}' is missing", file.name(), spec.name));
    }
    if (t->ne != spec.ne)
      throw InputError(fmt::format("{}: tensor '{}' has shape {}, expected {}", file.name(), spec.name,
                                   t->shape_string(), GgufTensorInfo{.ne = spec.ne}.shape_string()));
  }
}

}  // namespace vkq
