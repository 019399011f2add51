#include "cpu_forward.hpp"

#include <fmt/format.h>

#include "error.hpp"
#include "ops/elementwise.hpp"

namespace vkq {

using ops::add_ref;
using ops::attention_ref;
using ops::embed_ref;
using ops::linear_ref;
using ops::rmsnorm_ref;
using ops::rope_ref;
using ops::swiglu_ref;

void CpuForward::Activations::resize(size_t n, const LlamaHParams& hp) {
  const size_t dim = hp.embedding_length, kv = hp.kv_dim(), ff = hp.feed_forward_length;
  x.resize(n * dim);
  xb.resize(n * dim);
  q.resize(n * dim);
  k.resize(n * kv);
  v.resize(n * kv);
  att.resize(n * dim);
  ffn_gate.resize(n * ff);
  ffn_up.resize(n * ff);
  logits.resize(n * hp.vocab_size);
}

CpuForward::CpuForward(const LlamaModel& model, uint32_t n_ctx) : model_(model), n_ctx_(n_ctx) {
  const auto& hp = model.hparams();
  if (n_ctx == 0 || n_ctx > hp.context_length)
    throw InputError(fmt::format("{}: a context of {} tokens is outside 1 .. llama.context_length = {}",
                                 model.file().name(), n_ctx, hp.context_length));
  shape_ = {hp.head_count, hp.head_count_kv, hp.head_dim()};
  for (const auto& l : model.layers()) {
    attn_norm_.push_back(l.attn_norm.to_floats());
    ffn_norm_.push_back(l.ffn_norm.to_floats());
    k_cache_.emplace_back(size_t(n_ctx) * hp.kv_dim());
    v_cache_.emplace_back(size_t(n_ctx) * hp.kv_dim());
  }
  output_norm_ = model.output_norm().to_floats();
  if (model.rope_freqs()) rope_freqs_ = model.rope_freqs()->to_floats();
}

std::vector<float> CpuForward::decode(int32_t token, uint32_t pos) { return prefill({&token, 1}, pos); }

std::vector<float> CpuForward::prefill(std::span<const int32_t> tokens, uint32_t start_pos, bool all_logits) {
  const auto& hp = model_.hparams();
  const size_t n = tokens.size();
  if (n == 0) throw InputError("prefill: no tokens");
  if (start_pos > n_ctx_ || n > n_ctx_ - start_pos)
    throw InputError(fmt::format("positions {} .. {} are past the context of {} tokens", start_pos,
                                 uint64_t(start_pos) + n - 1, n_ctx_));
  act_.resize(n, hp);
  embed_ref(model_.token_embd(), tokens, act_.x);
  for (uint32_t l = 0; l < hp.block_count; ++l) {
    attention_block(l, start_pos, n);
    ffn_block(l);
  }
  // Only the rows whose logits are wanted go through the classifier.
  const size_t dim = hp.embedding_length, first = all_logits ? 0 : n - 1;
  const std::span<float> x_out = std::span(act_.x).subspan(first * dim);
  rmsnorm_ref(x_out, output_norm_, hp.rms_norm_eps, x_out);
  const std::span<float> logits = std::span(act_.logits).first((n - first) * hp.vocab_size);
  linear_ref(model_.output(), x_out, logits);
  return {logits.begin(), logits.end()};
}

void CpuForward::attention_block(uint32_t layer, uint32_t start_pos, size_t n) {
  const auto& hp = model_.hparams();
  const auto& w = model_.layers()[layer];
  const size_t dim = hp.embedding_length, kv_dim = hp.kv_dim();
  rmsnorm_ref(act_.x, attn_norm_[layer], hp.rms_norm_eps, act_.xb);
  linear_ref(w.attn_q, act_.xb, act_.q);
  linear_ref(w.attn_k, act_.xb, act_.k);
  linear_ref(w.attn_v, act_.xb, act_.v);
  auto& kc = k_cache_[layer];
  auto& vc = v_cache_[layer];
  for (size_t t = 0; t < n; ++t) {
    const uint32_t pos = start_pos + uint32_t(t);
    const auto q_t = std::span(act_.q).subspan(t * dim, dim);
    const auto k_t = std::span(act_.k).subspan(t * kv_dim, kv_dim);
    rope_ref(q_t, shape_.head_dim, hp.rope_dimension_count, pos, hp.rope_freq_base, rope_freqs_);
    rope_ref(k_t, shape_.head_dim, hp.rope_dimension_count, pos, hp.rope_freq_base, rope_freqs_);
    std::copy(k_t.begin(), k_t.end(), kc.begin() + std::ptrdiff_t(size_t(pos) * kv_dim));
    std::copy_n(act_.v.begin() + std::ptrdiff_t(t * kv_dim), kv_dim, vc.begin() + std::ptrdiff_t(size_t(pos) * kv_dim));
  }
  attention_ref(shape_, act_.q, start_pos, kc, vc, act_.att);
  linear_ref(w.attn_output, act_.att, act_.xb);  // xb: the attention block's output
  add_ref(act_.x, act_.xb, act_.x);
}

void CpuForward::ffn_block(uint32_t layer) {
  const auto& hp = model_.hparams();
  const auto& w = model_.layers()[layer];
  rmsnorm_ref(act_.x, ffn_norm_[layer], hp.rms_norm_eps, act_.xb);
  linear_ref(w.ffn_gate, act_.xb, act_.ffn_gate);
  linear_ref(w.ffn_up, act_.xb, act_.ffn_up);
  swiglu_ref(act_.ffn_gate, act_.ffn_up, act_.ffn_gate);
  linear_ref(w.ffn_down, act_.ffn_gate, act_.xb);
  add_ref(act_.x, act_.xb, act_.x);
}

}  // namespace vkq
