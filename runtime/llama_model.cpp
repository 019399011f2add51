#include "llama_model.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "llama_tensors.hpp"

namespace vkq {

LlamaModel LlamaModel::open(const std::string& path) { return LlamaModel(GgufFile::open(path)); }

LlamaModel::LlamaModel(GgufFile file) : file_(std::move(file)) {
  hp_ = check_llama_metadata(file_.metadata());
  check_llama_tensors(file_, hp_);  // every tensor below exists with its shape
  token_embd_ = view("token_embd.weight");
  output_norm_ = view("output_norm.weight");
  tied_output_ = file_.find_tensor("output.weight") == nullptr;
  if (!tied_output_) output_ = view("output.weight");
  if (file_.find_tensor("rope_freqs.weight")) rope_freqs_ = view("rope_freqs.weight");
  layers_.reserve(hp_.block_count);
  for (uint32_t l = 0; l < hp_.block_count; ++l) {
    auto v = [&](const char* t) { return view(fmt::format("blk.{}.{}.weight", l, t)); };
    layers_.push_back({v("attn_norm"), v("attn_q"), v("attn_k"), v("attn_v"), v("attn_output"), v("ffn_norm"),
                       v("ffn_gate"), v("ffn_up"), v("ffn_down")});
  }
}

TensorView LlamaModel::view(const std::string& name) const {
  const auto& t = file_.tensor(name);
  if (!ggml_type_info(t.type).supported)  // the reader refuses these unless asked not to
    throw InputError(fmt::format("{}: tensor '{}' is {}, which vkq cannot run yet", file_.name(), name,
                                 ggml_type_name(t.type)));
  return TensorView::make(name, t.type, t.row_length(), t.n_rows(), t.data);
}

}  // namespace vkq
