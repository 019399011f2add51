#include "forward_plan.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

#include "command_stream.hpp"
#include "error.hpp"
#include "gpu_weights.hpp"
#include "llama_model.hpp"
#include "ops/matmul.hpp"
#include "shader_registry.hpp"
#include "variant_select.hpp"

namespace vkq {
namespace {

GpuMatrixSpec spec_of(const TensorView& t) {
  return {t.name, t.type, static_cast<uint32_t>(t.rows), static_cast<uint32_t>(t.cols), {t}};
}

// q | k | v (or gate | up): one stacked matrix when the types agree, else
// one matrix each, side by side in the output row.
MatrixGroup group_of(const std::vector<TensorView>& parts, const std::string& stacked_name) {
  MatrixGroup g;
  const bool same = std::all_of(parts.begin(), parts.end(), [&](const TensorView& t) { return t.type == parts[0].type; });
  if (same) {
    GpuMatrixSpec s{stacked_name, parts[0].type, 0, static_cast<uint32_t>(parts[0].cols), parts};
    for (const auto& p : parts) s.rows += static_cast<uint32_t>(p.rows);
    g.matrices.push_back(std::move(s));
    g.offsets.push_back(0);
  } else {
    uint32_t off = 0;
    for (const auto& p : parts) {
      g.matrices.push_back(spec_of(p));
      g.offsets.push_back(off);
      off += static_cast<uint32_t>(p.rows);
    }
  }
  return g;
}

GpuMatrixSpec synthetic(std::string name, GgmlType t, uint32_t rows, uint32_t cols) {
  return {std::move(name), t, rows, cols, {}};
}

}  // namespace

uint32_t MatrixGroup::width() const { return offsets.empty() ? 0 : offsets.back() + matrices.back().rows; }

std::vector<const GpuMatrixSpec*> LlamaGpuLayout::Layer::matrices() const {
  std::vector<const GpuMatrixSpec*> out;
  for (const auto& m : qkv.matrices) out.push_back(&m);
  out.push_back(&attn_output);
  for (const auto& m : gate_up.matrices) out.push_back(&m);
  out.push_back(&ffn_down);
  return out;
}

std::vector<const GpuMatrixSpec*> LlamaGpuLayout::all_matrices() const {
  std::vector<const GpuMatrixSpec*> out{&token_embd};
  for (const auto& l : layers)
    for (const auto* m : l.matrices()) out.push_back(m);
  if (output) out.push_back(&*output);
  return out;
}

LlamaGpuLayout llama_gpu_layout(const LlamaModel& model) {
  LlamaGpuLayout g;
  g.hp = model.hparams();
  g.token_embd = spec_of(model.token_embd());
  if (!model.tied_output()) g.output = spec_of(model.output());
  for (size_t i = 0; i < model.layers().size(); ++i) {
    const auto& l = model.layers()[i];
    LlamaGpuLayout::Layer gl;
    gl.qkv = group_of({l.attn_q, l.attn_k, l.attn_v}, fmt::format("blk.{}.attn_qkv", i));
    gl.gate_up = group_of({l.ffn_gate, l.ffn_up}, fmt::format("blk.{}.ffn_gate_up", i));
    gl.attn_output = spec_of(l.attn_output);
    gl.ffn_down = spec_of(l.ffn_down);
    gl.attn_norm = l.attn_norm;
    gl.ffn_norm = l.ffn_norm;
    g.layers.push_back(std::move(gl));
  }
  g.output_norm = model.output_norm();
  if (model.rope_freqs()) g.rope_freqs = model.rope_freqs()->to_floats();
  return g;
}

LlamaGpuLayout llama_gpu_layout(const LlamaHParams& hp, GgmlType t, bool tied, std::vector<float> rope_freqs) {
  validate_llama_hparams(hp, "synthetic model");
  LlamaGpuLayout g;
  g.hp = hp;
  const uint32_t dim = hp.embedding_length, kv = hp.kv_dim(), ff = hp.feed_forward_length;
  g.token_embd = synthetic("token_embd.weight", t, hp.vocab_size, dim);
  if (!tied) g.output = synthetic("output.weight", t, hp.vocab_size, dim);
  for (uint32_t i = 0; i < hp.block_count; ++i) {
    LlamaGpuLayout::Layer l;
    l.qkv.matrices.push_back(synthetic(fmt::format("blk.{}.attn_qkv", i), t, dim + 2 * kv, dim));
    l.qkv.offsets.push_back(0);
    l.gate_up.matrices.push_back(synthetic(fmt::format("blk.{}.ffn_gate_up", i), t, 2 * ff, dim));
    l.gate_up.offsets.push_back(0);
    l.attn_output = synthetic(fmt::format("blk.{}.attn_output.weight", i), t, dim, dim);
    l.ffn_down = synthetic(fmt::format("blk.{}.ffn_down.weight", i), t, dim, ff);
    g.layers.push_back(std::move(l));
  }
  g.rope_freqs = std::move(rope_freqs);
  return g;
}

namespace {

// The embedded variant table: immutable, no device state.
const ShaderRegistry& embedded_registry() {
  static const ShaderRegistry registry;
  return registry;
}

// The variant the selector takes among `candidates` on `caps` ("" where none runs).
std::string selected_variant(const DeviceCaps& caps, const std::vector<std::string>& candidates) {
  try {
    return embedded_registry().select(candidates, caps).name;
  } catch (const DeviceError&) {
    return {};
  }
}

}  // namespace

bool matmul_uses_idot(const DeviceCaps& caps, GgmlType type, bool forced) {
  const auto candidates = op_variants(embedded_registry(), ops::matmul_op("matvec", type, ops::ActType::f32));
  if (candidates.empty()) return false;
  if (forced) {
    for (const auto& c : candidates)
      if (c.ends_with("_idot")) return ShaderRegistry::missing_features(embedded_registry().get(c), caps).empty();
    return false;
  }
  return selected_variant(caps, candidates).ends_with("_idot");
}

std::string auto_on_off(const char* name) {
  const char* env = std::getenv(name);
  const std::string mode = env && *env ? env : "auto";
  if (mode != "auto" && mode != "on" && mode != "off")
    throw InputError(fmt::format("{}='{}': expected auto, on or off", name, mode));
  return mode;
}

namespace {

// Whether the F16 GEMM on fp16 activations is the VK_NV_cooperative_matrix2 kernel on `caps`.
bool f16_gemm_is_cm2(const DeviceCaps& caps) {
  return selected_variant(caps, op_variants(embedded_registry(), ops::matmul_op("matmul", GgmlType::F16,
                                                                                 ops::ActType::f16)))
      .ends_with("_cm2");
}

}  // namespace

bool prefill_dequant_f16(const DeviceCaps& caps, GgmlType type) {
  const std::string mode = auto_on_off("VKQ_PREFILL_DEQUANT");
  if (mode == "off" || !is_block_type(type)) return false;
  if (op_variants(embedded_registry(), ops::dequant_op(type)).empty() ||
      op_variants(embedded_registry(), ops::matmul_op("matmul", GgmlType::F16, ops::ActType::f16)).empty())
    return false;
  return mode == "on" || f16_gemm_is_cm2(caps);
}

bool gemm_reads_f16(const DeviceCaps& caps, GgmlType type) {
  const std::string mode = auto_on_off("VKQ_PREFILL_F16");
  if (mode == "off") return false;
  const auto candidates = op_variants(embedded_registry(), ops::matmul_op("matmul", type, ops::ActType::f16));
  if (candidates.empty()) return false;
  if (mode == "on") return true;
  // auto: fp16 weights only. On the H100 (benchmarks/RESULTS.md, session
  // of 2026-12-06 (3), call 5) the fp16-activation GEMM took F16 pp512
  // from 9.8k to 12.7k tokens/s; for the block types the kernel's gain
  // (+8-10% at three of the four shapes) went to the conversions: Q4_0
  // 9029 against 9261, Q8_0 8450 against 9074.
  return type == GgmlType::F16 && f16_gemm_is_cm2(caps);
}

uint64_t ForwardPlan::component_bytes(const std::string& component) const {
  uint64_t b = 0;
  for (const auto& p : buffers)
    if (p.component == component) b += p.bytes;
  return b;
}

uint64_t ForwardPlan::device_bytes() const {
  uint64_t b = 0;
  for (const auto& p : buffers) b += p.bytes;
  return b;
}

uint64_t ForwardPlan::bytes(const std::string& name) const {
  for (const auto& p : buffers)
    if (p.name == name) return p.bytes;
  throw InputError(fmt::format("forward plan has no buffer '{}'", name));
}

ForwardPlan plan_forward(const LlamaGpuLayout& layout, const DeviceCaps& caps, ForwardConfig cfg) {
  const auto& hp = layout.hp;
  if (cfg.n_ctx == 0) throw InputError("forward plan: a context of 0 tokens");
  const uint64_t dim = hp.embedding_length, kv_dim = hp.kv_dim(), ff = hp.feed_forward_length, vocab = hp.vocab_size;
  const uint64_t logits_cap = 64ull << 20;
  if (cfg.max_batch == 0) cfg.max_batch = 512;
  cfg.max_batch = std::max<uint32_t>(1, std::min(cfg.max_batch, cfg.n_ctx));
  if (cfg.attention_splits == 0) cfg.attention_splits = ops::attention_splits(hp.head_count, cfg.n_ctx);
  if (cfg.attention_splits > ops::kMaxAttentionSplits)
    throw InputError(fmt::format("forward plan: {} attention splits per head (at most {})", cfg.attention_splits,
                                 ops::kMaxAttentionSplits));
  ForwardPlan plan;
  plan.logit_rows = static_cast<uint32_t>(std::clamp<uint64_t>(logits_cap / (vocab * 4), 1, cfg.max_batch));
  plan.config = cfg;
  auto add = [&](std::string name, std::string component, uint64_t bytes, bool host = false) {
    plan.buffers.push_back({std::move(name), std::move(component), std::max<uint64_t>(bytes, 4), host});
  };

  // Weights: each matrix's planes as GpuMatrix allocates them; the staging
  // buffer of an upload lives while one plane is copied.
  const uint64_t max_plane = max_plane_bytes(caps);
  const bool uma = caps.device_type == "cpu" || caps.device_type == "integrated";
  for (const auto* m : layout.all_matrices()) {
    const auto chunks = plan_chunks(m->type, m->rows, m->cols, max_plane);
    for (size_t c = 0; c < chunks.size(); ++c) {
      add(fmt::format("{}/quants#{}", m->name, c), "weights", chunks[c].quant_bytes);
      if (chunks[c].scale_bytes) add(fmt::format("{}/scales#{}", m->name, c), "weights", chunks[c].scale_bytes);
      if (!uma) plan.staging_bytes = std::max({plan.staging_bytes, chunks[c].quant_bytes, chunks[c].scale_bytes});
    }
  }
  for (uint32_t l = 0; l < hp.block_count; ++l) {
    add(fmt::format("blk.{}.attn_norm.weight", l), "weights", dim * 4);
    add(fmt::format("blk.{}.ffn_norm.weight", l), "weights", dim * 4);
  }
  add("output_norm.weight", "weights", dim * 4);
  add("rope_freqs", "weights", std::max<uint64_t>(layout.rope_freqs.size(), 1) * 4);
  if (!uma) plan.staging_bytes = std::max(plan.staging_bytes, dim * 4);
  // Synthetic weights and norms are filled on the device; only the rope
  // frequency factors (if any) are uploaded.
  if (cfg.synthetic) plan.staging_bytes = uma ? 0 : layout.rope_freqs.size() * 4;

  // KV cache.
  const uint64_t kv_bytes = uint64_t(cfg.n_ctx) * kv_dim * ops::kv_bytes_per_element(cfg.kv);
  for (uint32_t l = 0; l < hp.block_count; ++l) {
    add(fmt::format("kv.k.{}", l), "kv_cache", kv_bytes);
    add(fmt::format("kv.v.{}", l), "kv_cache", kv_bytes);
  }

  // Activations for max_batch tokens.
  const uint64_t B = cfg.max_batch;
  uint32_t qkv_w = 0, gu_w = 0;
  for (const auto& l : layout.layers) {
    qkv_w = std::max(qkv_w, l.qkv.width());
    gu_w = std::max(gu_w, l.gate_up.width());
  }
  add("act.x", "activations", B * dim * 4);
  add("act.xb", "activations", B * dim * 4);
  add("act.qkv", "activations", B * qkv_w * 4);
  add("act.att", "activations", B * dim * 4);
  add("act.gate_up", "activations", B * gu_w * 4);
  add("act.hidden", "activations", B * ff * 4);
  add("act.logits", "activations", uint64_t(plan.logit_rows) * vocab * 4);
  // Decode attention's split partials and arrival counts (ops::Attention).
  add("act.att_part", "activations", ops::attention_part_bytes(hp.head_count, hp.head_dim(), cfg.attention_splits));
  add("act.att_count", "activations", ops::attention_count_bytes(hp.head_count));
  // Decode's dispatch-chain flags (CommandStream::begin_chain): one flag
  // (kChainFlagBytes: its counters on 128-byte lines of their own) per linked
  // dispatch, at most five per layer and the output head's.
  add("act.chain_flags", "activations", (5 * uint64_t(hp.block_count) + 8) * kChainFlagBytes);

  // The fp16 copy of a prefill GEMM's activations (gemm_reads_f16, or
  // prefill_dequant_f16 for a layer's matrix): for max_batch tokens of the
  // widest input such a GEMM reads. The dequantized weights' two planes:
  // the largest such plane each.
  uint64_t xh_k = 0, wh = 0;
  std::map<GgmlType, bool> reads_f16;  // gemm_reads_f16, once per weight type
  for (const auto* m : layout.all_matrices()) {
    if (m == &layout.token_embd && layout.output) continue;
    auto [it, added] = reads_f16.try_emplace(m->type);
    if (added) it->second = gemm_reads_f16(caps, m->type);
    if (m->cols % 4 == 0 && it->second) xh_k = std::max<uint64_t>(xh_k, m->cols);
  }
  std::map<GgmlType, bool> dequant;  // prefill_dequant_f16, once per weight type
  for (const auto& l : layout.layers)
    for (const auto* m : l.matrices()) {
      auto [it, added] = dequant.try_emplace(m->type);
      if (added) it->second = prefill_dequant_f16(caps, m->type);
      const uint64_t plane = uint64_t(m->rows) * quant_row_bytes(GgmlType::F16, m->cols);
      plan.dequantized.push_back(B > 8 && it->second && plane <= max_plane);  // n <= 8 runs the GEMV
      if (!plan.dequantized.back()) continue;
      xh_k = std::max<uint64_t>(xh_k, m->cols);
      wh = std::max(wh, plane);
    }
  if (xh_k && B > 8) add("act.xh", "activations", B * xh_k * 2);  // n <= 8 runs the GEMV
  if (wh) {
    add("scratch.wh.0", "scratch", wh);
    add("scratch.wh.1", "scratch", wh);
  }

  // Host-visible input/output (io.step and io.tokens in device-local memory
  // too where the device has a BAR: MemoryKind::upload).
  add("io.step", "io", 16, true);
  add("io.tokens", "io", B * 4, true);
  add("io.readback", "io", uint64_t(plan.logit_rows) * vocab * 4, true);

  // Integer-dot scratch: one Matmul per weight type, reserved for 8 columns
  // of the longest row it multiplies (quantized values, then (d, s) per block).
  std::vector<std::pair<GgmlType, uint32_t>> idot_k;
  for (const auto* m : layout.all_matrices()) {
    if (m == &layout.token_embd && layout.output) continue;  // not a matmul unless tied
    if (!is_block_type(m->type) || !matmul_uses_idot(caps, m->type, cfg.force_idot)) continue;
    auto it = std::find_if(idot_k.begin(), idot_k.end(), [&](const auto& p) { return p.first == m->type; });
    if (it == idot_k.end()) idot_k.emplace_back(m->type, m->cols);
    else it->second = std::max(it->second, m->cols);
  }
  for (const auto& [t, k] : idot_k) {
    add(fmt::format("scratch.xq.{}", ggml_type_name(t)), "scratch", 8ull * k);
    add(fmt::format("scratch.xds.{}", ggml_type_name(t)), "scratch", 8ull * (k / 32) * 8);
  }
  // The _q8 producer ops' output in 8-bit blocks (norms, attention, SwiGLU),
  // for up to 8 tokens (the GEMV's columns), when some matmul reads it.
  if (!idot_k.empty()) {
    const uint64_t widest = std::max(dim, ff);
    add("act.xq", "activations", 8 * widest);
    add("act.xds", "activations", 8 * (widest / 32) * 8);
    // Decode's SwiGLU epilogue (ops::GemvEpilogue): its 8-bit output for one token.
    if (ff % 32 == 0) {
      add("act.hq", "activations", ff);
      add("act.hds", "activations", (ff / 32) * 8);
    }
    // Decode's deferred RMSNorm (VulkanForward::norm_deferred): x * w in
    // 8-bit blocks and a sum of squares per block, for one token.
    if (dim % 32 == 0) {
      add("act.nq", "activations", dim);
      add("act.nds", "activations", (dim / 32) * 8);
      add("act.nss", "activations", (dim / 32) * 4);
      // Decode's FFN in one dispatch (ops::FfnTail): its fixed-point sums.
      if (ff % 32 == 0 && caps.int64_atomics) add("act.ffn_acc", "activations", ops::ffn_acc_bytes(dim));
    }
  }
  return plan;
}

}  // namespace vkq
