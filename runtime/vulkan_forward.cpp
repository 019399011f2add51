#include "vulkan_forward.hpp"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "error.hpp"
#include "llama_model.hpp"
#include "oom_report.hpp"
#include "variant_select.hpp"
#include "common/push_constants.h"

namespace vkq {
namespace {

// The bytes of a stacked matrix in GGUF layout: its parts' rows in order.
std::vector<uint8_t> stacked_rows(const GpuMatrixSpec& s) {
  std::vector<uint8_t> out;
  uint64_t total = 0;
  for (const auto& p : s.parts) total += p.bytes();
  out.reserve(total);
  for (const auto& p : s.parts) out.insert(out.end(), p.data, p.data + p.bytes());
  return out;
}

// Uniform scale of random weights whose rows dot like N(0, 1/K) ones (see
// fill_random.comp): the variance of d * q (+ m) over the random q.
float random_scale(GgmlType t, uint32_t K) {
  const float inv = 1.0f / std::sqrt(float(K));
  switch (t) {
    case GgmlType::Q4_0: return 0.373f * inv;
    case GgmlType::Q4_1: return 0.196f * inv;
    case GgmlType::Q8_0: return 0.0234f * inv;
    default: return std::sqrt(3.0f) * inv;
  }
}

bool plan_has(const ForwardPlan& p, const std::string& name) {
  for (const auto& b : p.buffers)
    if (b.name == name) return true;
  return false;
}

}  // namespace

VulkanForward::VulkanForward(Device& device, const LlamaModel& model, VulkanForwardOptions opts)
    : VulkanForward(device, llama_gpu_layout(model), opts, false) {}

VulkanForward::VulkanForward(Device& device, const LlamaGpuLayout& layout, VulkanForwardOptions opts)
    : VulkanForward(device, layout, opts, true) {}

VulkanForward::VulkanForward(Device& device, const LlamaGpuLayout& layout, VulkanForwardOptions opts, bool synthetic)
    : device_(device), hp_(layout.hp), opts_(opts) {
  if (opts.n_ctx == 0) opts_.n_ctx = hp_.context_length;
  if (opts_.n_ctx == 0 || opts_.n_ctx > hp_.context_length)
    throw InputError(fmt::format("a context of {} tokens is outside 1 .. llama.context_length = {}", opts_.n_ctx,
                                 hp_.context_length));
  if (hp_.head_dim() % 2 || hp_.head_dim() > 256)
    throw InputError(fmt::format("head_dim {} is not supported on Vulkan (even, at most 256)", hp_.head_dim()));
  if (!opts_.chain)  // VKQ_CHAIN=on|off overrides the default (any command)
    if (const char* e = std::getenv("VKQ_CHAIN"); e && (std::string(e) == "on" || std::string(e) == "off"))
      opts_.chain = std::string(e) == "on";
  // Off unless asked for: slower than barriers on the H200
  // (benchmarks/RESULTS.md, call 40).
  chain_ = opts_.chain.value_or(false);
  if (!opts_.fused_attention_rows)
    if (const char* e = std::getenv("VKQ_FUSED_ATTENTION_ROWS"))  // 0: off
      opts_.fused_attention_rows = ops::env_row_count("VKQ_FUSED_ATTENTION_ROWS", e, 0, UINT32_MAX);
  fused_rows_ = chain_ ? 0 : opts_.fused_attention_rows.value_or(0);
  if (auto_on_off("VKQ_PREFILL_F16_OUT") == "off") opts_.f16_producers = false;
  if (const std::string m = auto_on_off("VKQ_FUSED_FFN"); !opts_.fuse_ffn && m != "auto") opts_.fuse_ffn = m == "on";
  const uint32_t splits =
      opts_.attention_splits ? opts_.attention_splits : ops::attention_splits(hp_.head_count, opts_.n_ctx);
  plan_ = plan_forward(layout, device.caps(), {opts_.n_ctx, opts_.max_batch, opts_.kv, opts_.force_idot, synthetic, splits});
  for (const auto& l : layout.layers) {
    qkv_width_ = std::max(qkv_width_, l.qkv.width());
    gate_up_width_ = std::max(gate_up_width_, l.gate_up.width());
  }
  up_offset_ = hp_.feed_forward_length;
  try {
    create_ops(layout);
    build_weights(layout, synthetic);
    allocate_activations();
  } catch (DeviceError& e) {
    if (e.oom()) add_forward_plan(*e.oom(), plan_);  // the fit table shows what was planned
    throw;
  }
}

VulkanForward::~VulkanForward() = default;

std::vector<const GpuMatrix*> VulkanForward::Layer::matrices() const {
  std::vector<const GpuMatrix*> out;
  for (const auto& m : qkv) out.push_back(&m);
  out.push_back(&attn_output);
  for (const auto& m : gate_up) out.push_back(&m);
  out.push_back(&ffn_down);
  return out;
}

std::string VulkanForward::device_name() const { return device_.caps().name; }

// The tuning every matmul of this forward pass takes from its options.
ops::MatmulTuning VulkanForward::matmul_tuning() const {
  ops::MatmulTuning tuning;
  tuning.block_wg = opts_.block_wg;
  tuning.block_loads = opts_.block_loads;
  tuning.norm_wg = opts_.norm_wg;
  tuning.norm_loads = opts_.norm_loads;
  tuning.block_stage = opts_.block_stage;
  tuning.chain_unstaged = opts_.chain_unstaged;
  tuning.gemm.bk = opts_.gemm_bk;
  tuning.gemm.nbuf = opts_.gemm_bufs;
  return tuning;
}

ops::Matmul* VulkanForward::matmul_f16(const GpuMatrix& w, uint32_t n) {
  if (!xh_ || n <= 8 || w.cols() % 4 || xh_.size() < uint64_t(n) * w.cols() * 2) return nullptr;
  // Decided once per weight type, as the plan decided act.xh (null: no).
  auto [it, added] = matmuls_f16_.try_emplace(w.type());
  if (added && gemm_reads_f16(device_.caps(), w.type()))
    it->second = std::make_unique<ops::Matmul>(device_, w.type(), ops::ActType::f16, std::string(), matmul_tuning());
  return it->second.get();
}

ops::Matmul& VulkanForward::matmul(GgmlType t) {
  auto& m = matmuls_[t];
  if (!m) {
    std::string forced;
    if (opts_.force_idot && is_block_type(t)) forced = ops::matmul_op("matvec", t, ops::ActType::f32) + "_idot";
    m = std::make_unique<ops::Matmul>(device_, t, ops::ActType::f32, forced, matmul_tuning());
  }
  return *m;
}

void VulkanForward::create_ops(const LlamaGpuLayout& layout) {
  get_rows_ = std::make_unique<ops::GetRows>(device_, layout.token_embd.type);
  rmsnorm_ = std::make_unique<ops::RmsNorm>(device_);
  const uint32_t splits = plan_.config.attention_splits;  // plan_forward's choice
  // The _q8 producers, where some matmul reads 8-bit activations (plan:
  // act.xq / act.xds exist then).
  if (plan_has(plan_, "act.xq")) {
    rmsnorm_q8_ = std::make_unique<ops::RmsNorm>(device_, true);
    attention_q8_ = std::make_unique<ops::Attention>(device_, opts_.kv, true, false, 1, opts_.tiled_attention);
    attention_rope_q8_ = std::make_unique<ops::Attention>(device_, opts_.kv, true, true, splits);
    swiglu_q8_ = std::make_unique<ops::Swiglu>(device_, true);
    if (plan_has(plan_, "act.nq")) rmsnorm_deferred_ = std::make_unique<ops::RmsNorm>(device_, true, true);
  }
  rope_kv_ = std::make_unique<ops::RopeKv>(device_, opts_.kv);
  attention_ = std::make_unique<ops::Attention>(device_, opts_.kv, false, false, 1, opts_.tiled_attention);
  attention_rope_ = std::make_unique<ops::Attention>(device_, opts_.kv, false, true, splits);
  swiglu_ = std::make_unique<ops::Swiglu>(device_);
  // One matmul per weight type; its integer-dot scratch (if any) is reserved
  // at the plan's size now, so no buffer is added while streams are recorded.
  std::map<GgmlType, uint32_t> longest;
  for (const auto* m : layout.all_matrices()) {
    if (m == &layout.token_embd && layout.output) continue;
    longest[m->type] = std::max(longest[m->type], m->cols);
  }
  for (const auto& [t, k] : longest) matmul(t).reserve_scratch(8, k);
}

void VulkanForward::build_weights(const LlamaGpuLayout& layout, bool synthetic) {
  const uint32_t dim = hp_.embedding_length;
  std::unique_ptr<ops::FillRandom> fill;
  std::unique_ptr<CommandStream> cs;
  uint32_t seed = static_cast<uint32_t>(opts_.seed * 2654435761u) ^ 0x5eedu;
  if (synthetic) {
    fill = std::make_unique<ops::FillRandom>(device_);
    cs = std::make_unique<CommandStream>(device_, 0);
  }
  auto fill_matrix = [&](GpuMatrix& m) {
    const float scale = random_scale(m.type(), m.cols());
    for (const auto& c : m.chunks()) {
      using Mode = ops::FillRandom::Mode;
      const Mode qm = m.type() == GgmlType::F32    ? Mode::f32
                      : m.type() == GgmlType::F16  ? Mode::f16
                      : m.type() == GgmlType::BF16 ? Mode::bf16
                                                   : Mode::bits;
      fill->record(*cs, c.quants, c.quants.size() / 4, ++seed, qm, is_block_type(m.type()) ? 1.0f : scale);
      if (c.scales) fill->record(*cs, c.scales, c.scales.size() / 4, ++seed, Mode::f16, scale);
    }
    cs->submit_and_wait();
  };
  auto make = [&](const GpuMatrixSpec& s) {
    if (synthetic) {
      auto m = GpuMatrix::allocate(device_, s.type, s.rows, s.cols);
      fill_matrix(m);
      return m;
    }
    if (s.parts.size() == 1) return GpuMatrix(device_, s.type, s.parts[0].data, s.rows, s.cols);
    const auto rows = stacked_rows(s);
    return GpuMatrix(device_, s.type, rows.data(), s.rows, s.cols);
  };
  auto vec = [&](const std::optional<TensorView>& t, size_t n) {
    Buffer b(device_, n * 4);
    if (t) {
      const auto f = t->to_floats();
      b.upload(f.data(), f.size() * 4);
    } else {
      fill->record(*cs, b, n, ++seed, ops::FillRandom::Mode::f32_near_one, 0.02f);
      cs->submit_and_wait();
    }
    return b;
  };

  token_embd_ = make(layout.token_embd);
  if (layout.output) output_ = std::make_unique<GpuMatrix>(make(*layout.output));
  weight_bytes_per_token_ = output_ ? output_->gpu_bytes() : token_embd_.gpu_bytes();
  const uint64_t kv_bytes = plan_.bytes("kv.k.0");
  for (size_t i = 0; i < layout.layers.size(); ++i) {
    const auto& gl = layout.layers[i];
    Layer l;
    for (const auto& m : gl.qkv.matrices) l.qkv.push_back(make(m));
    l.qkv_offsets = gl.qkv.offsets;
    l.attn_output = make(gl.attn_output);
    for (const auto& m : gl.gate_up.matrices) l.gate_up.push_back(make(m));
    l.gate_up_offsets = gl.gate_up.offsets;
    l.ffn_down = make(gl.ffn_down);
    l.attn_norm = vec(gl.attn_norm, dim);  // synthetic: near 1
    l.ffn_norm = vec(gl.ffn_norm, dim);
    l.k_cache = Buffer(device_, kv_bytes);
    l.v_cache = Buffer(device_, kv_bytes);
    layers_.push_back(std::move(l));
    for (const auto* m : layers_.back().matrices()) weight_bytes_per_token_ += m->gpu_bytes();
  }
  output_norm_ = vec(layout.output_norm, dim);
  n_rope_freqs_ = static_cast<uint32_t>(layout.rope_freqs.size());
  rope_freqs_ = Buffer(device_, std::max<size_t>(layout.rope_freqs.size(), 1) * 4);
  if (n_rope_freqs_) rope_freqs_.upload(layout.rope_freqs.data(), layout.rope_freqs.size() * 4);
  else rope_freqs_.fill(0);
}


void VulkanForward::allocate_activations() {
  auto dev = [&](const char* name) { return Buffer(device_, plan_.bytes(name)); };
  auto host = [&](const char* name) { return Buffer(device_, plan_.bytes(name), MemoryKind::host); };
  x_ = dev("act.x");
  xb_ = dev("act.xb");
  qkv_ = dev("act.qkv");
  att_ = dev("act.att");
  gate_up_ = dev("act.gate_up");
  hidden_ = dev("act.hidden");
  logits_ = dev("act.logits");
  att_part_ = dev("act.att_part");
  att_count_ = dev("act.att_count");
  att_count_.fill(0);
  chain_flags_ = dev("act.chain_flags");
  // Written by the host before each submit, read by the kernels (the
  // position by every decode attention workgroup): in the GPU's own memory
  // where a BAR allows (MemoryKind::upload).
  step_ = Buffer(device_, plan_.bytes("io.step"), MemoryKind::upload);
  tokens_ = Buffer(device_, plan_.bytes("io.tokens"), MemoryKind::upload);
  readback_ = host("io.readback");
  if (plan_has(plan_, "act.xh")) {
    xh_ = dev("act.xh");
    convert_f16_ = std::make_unique<ops::ConvertF16>(device_);
    if (opts_.f16_producers) {
      rmsnorm_f16_ = std::make_unique<ops::RmsNorm>(device_, false, false, ops::ActType::f16);
      swiglu_f16_ = std::make_unique<ops::Swiglu>(device_, false, ops::ActType::f16);
    }
  }
  if (plan_has(plan_, "scratch.wh.0")) {
    wh_[0] = dev("scratch.wh.0");
    wh_[1] = dev("scratch.wh.1");
    dequant_gemm_ = std::make_unique<ops::Matmul>(device_, GgmlType::F16, ops::ActType::f16, std::string(), matmul_tuning());
    size_t planned = 0;  // index into plan_.dequantized: the same matrices in the same order
    for (const auto& l : layers_)
      for (const auto* m : l.matrices()) {
        if (!plan_.dequantized.at(planned++)) continue;
        auto& d = dequant_[m->type()];
        if (!d) d = std::make_unique<ops::DequantF16>(device_, m->type());
        dequant_index_[m] = dequant_order_.size();
        dequant_order_.push_back(m);
      }
  }
  if (plan_has(plan_, "act.xq")) {
    xq_ = dev("act.xq");
    xds_ = dev("act.xds");
    if (plan_has(plan_, "act.hq")) {
      hq_ = dev("act.hq");
      hds_ = dev("act.hds");
    }
    if (plan_has(plan_, "act.nq")) {
      nq_ = dev("act.nq");
      nds_ = dev("act.nds");
      nss_ = dev("act.nss");
    }
    if (plan_has(plan_, "act.ffn_acc")) {
      ffn_acc_ = dev("act.ffn_acc");
      ffn_acc_.fill(0);
    }
  }
  step_.fill(0);
  tokens_.fill(0);
  if (opts_.prefetch_bytes) {
    // A word per dispatch of a layer's prefetch, each in its own aligned
    // slice: they run unordered, so none writes another's.
    prefetch_slice_ = std::max<uint64_t>(device_.caps().min_storage_buffer_offset_alignment, 16);
    prefetch_sink_ = Buffer(device_, kPrefetchSlices * prefetch_slice_);
    prefetch_sink_.fill(0);
    prefetch_wg_ = pick_workgroup_size(device_.caps(), 256);
    prefetch_kernel_ = &device_.kernel({"read_stream", {prefetch_wg_}, sizeof(pc::Elementwise)});
  }
}

void VulkanForward::record_prefetch(CommandStream& cs, std::initializer_list<const GpuMatrix*> ms, uint64_t bytes) {
  // Few workgroups, each walking its share (grid-stride): the dispatch
  // before keeps the SMs it needs, these fill what it leaves idle.
  const uint32_t wg = prefetch_wg_;
  uint32_t slice = 0;
  for (const GpuMatrix* m : ms)
    for (const auto& c : m->chunks())
      for (const Buffer* plane : {&c.quants, &c.scales}) {
        if (!*plane || bytes < 16 || slice == kPrefetchSlices) continue;
        const uint64_t len = std::min(plane->size(), bytes) & ~uint64_t(15);
        if (len == 0) continue;  // a plane under 16 bytes
        bytes -= len;
        const uint32_t n = static_cast<uint32_t>(len / 16);
        cs.dispatch(*prefetch_kernel_, {Binding(*plane, 0, len), Binding(prefetch_sink_, slice++ * prefetch_slice_, 16)},
                    pc::Elementwise{n}, {std::min<uint32_t>((n + wg - 1) / wg, 512), 1, 1});
      }
}

std::string VulkanForward::matmul_variant(GgmlType t, uint32_t n) const {
  if (n > 8 && dequant_.count(t)) return ops::dequant_op(t) + "+" + dequant_gemm_->variant_for(n);
  if (const auto f = matmuls_f16_.find(t); n > 8 && f != matmuls_f16_.end() && f->second)
    return f->second->variant_for(n);
  const auto it = matmuls_.find(t);
  return it == matmuls_.end() ? std::string() : it->second->variant_for(n);
}

std::string VulkanForward::prefill_attention_variant() const {
  return attention_ ? attention_->variant_for(hp_.head_dim()) : std::string();
}

void VulkanForward::mark(CommandStream& cs, bool marks, const std::string& label) {
  if (marks) cs.mark(label);
}

bool VulkanForward::wants_quantized(std::span<const GpuMatrix> consumers, uint32_t n, uint32_t width) {
  if (!xq_ || width % 32 || n > 8) return false;  // act.xq holds 8 rows: the GEMV's columns
  for (const auto& m : consumers)
    if (matmul(m.type()).uses_idot(n)) return true;
  return false;
}

bool VulkanForward::norm_deferred(std::span<const GpuMatrix> consumers, uint32_t n) {
  if (n != 1 || !opts_.fuse_epilogues || !rmsnorm_deferred_ || consumers.empty()) return false;
  for (const auto& m : consumers)
    if (!matmul(m.type()).uses_idot(1) || m.cols() != hp_.embedding_length) return false;
  return true;
}

std::optional<ops::GemvEpilogue> VulkanForward::norm_epilogue(const GpuMatrix& producer, const Buffer& w,
                                                              std::span<const GpuMatrix> consumers, uint32_t n) {
  if (!norm_deferred(consumers, n) || producer.rows() != hp_.embedding_length ||
      !matmul(producer.type()).can_fuse(producer, n, ops::GemvEpilogue::Kind::norm))
    return std::nullopt;
  return ops::GemvEpilogue{ops::GemvEpilogue::Kind::norm, nq_, nds_, &nss_, &w};
}

bool VulkanForward::f16_route(const GpuMatrix& w, uint32_t n) {
  if (n <= 8 || !xh_ || xh_.size() < uint64_t(n) * w.cols() * 2) return false;
  return dequant_index_.count(&w) || matmul_f16(w, n);
}

bool VulkanForward::reads_xh(std::span<const GpuMatrix> consumers, uint32_t n) {
  if (!rmsnorm_f16_ || consumers.empty()) return false;
  for (const auto& m : consumers)
    if (m.cols() % 2 || !f16_route(m, n)) return false;
  return true;
}

// Y (+)= W X through the producer's quantized copy of X where W's matmul
// reads 8-bit activations, else through the fp32 X (or its fp16 copy).
void VulkanForward::record_matmul(CommandStream& cs, const GpuMatrix& w, const Buffer& x, bool quantized, const Buffer& y,
                                  uint32_t n, uint32_t y_stride, uint32_t y_offset, bool accumulate,
                                  const ops::GemvEpilogue* epi, const Buffer* xq, const Buffer* xds, bool deferred) {
  auto& mm = matmul(w.type());
  if (&x == &xh_ && (deferred || quantized || epi || !f16_route(w, n)))
    throw std::logic_error("record_matmul: fp16 input (act.xh) for a matmul off the fp16 route");
  if (deferred)
    mm.record_quantized(cs, w, nq_, nds_, y, n, y_stride, y_offset, accumulate, epi,
                        ops::InputScale{&nss_, hp_.rms_norm_eps});
  else if (quantized && mm.uses_idot(n))
    mm.record_quantized(cs, w, xq ? *xq : xq_, xds ? *xds : xds_, y, n, y_stride, y_offset, accumulate, epi);
  else if (!epi && record_dequantized(cs, w, x, y, n, y_stride, y_offset, accumulate))
    return;
  else if (auto* mh = epi ? nullptr : matmul_f16(w, n)) {
    // Prefill on the fp16-activation GEMM: X -> act.xh, then the GEMM on it
    // (the barrier before the conversion is the op's before it; the GEMMs
    // of a group are barrier-separated, so act.xh is never read and written
    // at once). None where the producer wrote act.xh itself.
    if (&x != &xh_) {
      convert_f16_->record(cs, x, xh_, uint64_t(n) * w.cols());
      cs.barrier();
    }
    mh->record(cs, w, xh_, y, n, 0, y_stride, y_offset, accumulate);
  } else
    mm.record(cs, w, x, y, n, 0, y_stride, y_offset, accumulate, epi);
}

bool VulkanForward::record_dequantized(CommandStream& cs, const GpuMatrix& w, const Buffer& x, const Buffer& y,
                                       uint32_t n, uint32_t y_stride, uint32_t y_offset, bool accumulate) {
  const auto it = dequant_index_.find(&w);
  if (n <= 8 || it == dequant_index_.end() || xh_.size() < uint64_t(n) * w.cols() * 2) return false;
  const int64_t i = static_cast<int64_t>(it->second);
  // Every dispatch before this one ended at the barrier before it (the op
  // before, or the group's), so a plane that holds no staged copy is free,
  // and so is a plane whose copy is not this weight's.
  if (&x != &xh_) convert_f16_->record(cs, x, xh_, uint64_t(n) * w.cols());
  int p = staged_[0] == i ? 0 : staged_[1] == i ? 1 : -1;
  if (p < 0) {
    p = staged_[0] == i + 1 ? 1 : 0;  // keep a copy already made of the next weight
    dequant_.at(w.type())->record(cs, w, wh_[p]);
    staged_[p] = i;
  }
  cs.barrier();
  dequant_gemm_->record_plane(cs, wh_[p], w.rows(), w.cols(), xh_, y, n, y_stride, y_offset, accumulate);
  // The next weight's copy into the other plane, beside this GEMM (its
  // GEMM is behind at least one barrier; the plane's last reader, the GEMM
  // before this one, is done). Recorded after the GEMM: the GEMM's
  // workgroups start first and the copy fills what they leave (H100: pp512
  // Q4_0 9964 t/s against 9793 with the copy recorded before the GEMM and
  // 9612 with no copy beside it; benchmarks/RESULTS.md).
  if (const size_t next = it->second + 1; next < dequant_order_.size() && staged_[1 - p] != int64_t(next)) {
    dequant_.at(dequant_order_[next]->type())->record(cs, *dequant_order_[next], wh_[1 - p]);
    staged_[1 - p] = int64_t(next);
  }
  return true;
}

void VulkanForward::record_norm(CommandStream& cs, const Buffer& w, const ops::RmsNorm::Shape& s, bool quantized,
                                bool deferred, bool to_xh) {
  if (to_xh)
    rmsnorm_f16_->record(cs, x_, w, xh_, s);
  else if (deferred)
    rmsnorm_deferred_->record(cs, x_, w, xb_, s, {&nq_, &nds_, &nss_});
  else
    (quantized ? *rmsnorm_q8_ : *rmsnorm_)
        .record(cs, x_, w, xb_, s, quantized ? ops::QuantizedActivations{&xq_, &xds_} : ops::QuantizedActivations{});
  cs.barrier();
}

std::optional<ops::AttentionTail> VulkanForward::attention_tail(const Layer& l, uint32_t n, bool deferred, bool q_att) {
  if (n != 1 || !deferred || !q_att || fused_rows_ == 0 || l.qkv.size() != 1 || l.qkv_offsets[0] != 0) return std::nullopt;
  ops::AttentionTail a;
  a.kv_f16 = opts_.kv == ops::KvType::f16;
  a.n_heads = hp_.head_count;
  a.n_kv_heads = hp_.head_count_kv;
  a.head_dim = hp_.head_dim();
  a.rope_dims = hp_.rope_dimension_count;
  a.n_freq_factors = n_rope_freqs_;
  a.freq_base = hp_.rope_freq_base;
  a.n_ctx = plan_.config.n_ctx;
  a.fused_rows = std::min(fused_rows_, a.n_ctx);
  a.step = &step_;
  a.k_cache = &l.k_cache;
  a.v_cache = &l.v_cache;
  a.out = &att_;
  a.freq = &rope_freqs_;
  a.count = &att_count_;
  a.xq = &xq_;
  a.xds = &xds_;
  if (!matmul(l.qkv[0].type()).can_fuse_attention(l.qkv[0], a)) return std::nullopt;
  return a;
}

bool VulkanForward::record_layers(CommandStream& cs, uint32_t n, bool marks) {
  const uint32_t dim = hp_.embedding_length, ff = hp_.feed_forward_length, n_ctx = plan_.config.n_ctx;
  const ops::RopeShape rope{hp_.head_count, hp_.head_count_kv, hp_.head_dim(), hp_.rope_dimension_count,
                            hp_.rope_freq_base, n_rope_freqs_};
  const ops::QuantizedActivations qa{&xq_, &xds_};
  staged_ = {-1, -1};  // a new stream: nothing in it has written the fp16 weight planes yet
  get_rows_->record(cs, token_embd_, tokens_, x_, n, dim);
  cs.barrier();
  mark(cs, marks, "embed");
  // Matrices side by side in one output row: a barrier between them keeps
  // the integer-dot matmul's shared activation scratch free of overlap.
  // Their input: xb_, or xh_ where the norm before them wrote it in fp16.
  auto group = [&](const std::vector<GpuMatrix>& ms, const std::vector<uint32_t>& offs, bool quantized,
                   const Buffer& out, uint32_t width, bool deferred, bool from_xh) {
    for (size_t i = 0; i < ms.size(); ++i) {
      if (i) cs.barrier();
      record_matmul(cs, ms[i], from_xh ? xh_ : xb_, quantized, out, n, width, offs[i], false, nullptr, nullptr, nullptr,
                    deferred);
    }
    cs.barrier();
  };
  // An op whose consumers read 8-bit activations writes them too (the _q8
  // kernels): no quantize dispatch between it and the matmul. Deferred: the
  // GEMV before it wrote them (`fused`), or rmsnorm_q8_deferred does.
  auto norm = [&](const Buffer& w, bool quantized, bool deferred, bool fused, const std::string& label, bool to_xh) {
    if (fused) return;
    record_norm(cs, w, {n, dim, hp_.rms_norm_eps}, quantized, deferred, to_xh);
    mark(cs, marks, label);
  };
  // Whether the norm before the next consumers was written by the GEMV just recorded.
  bool fused_norm = false;
  // set_decode_skip: decode leaves these kinds out (timing only).
  auto keep = [&](const char* kind) { return n != 1 || !decode_skip_.count(kind); };
  for (size_t li = 0; li < layers_.size(); ++li) {
    const auto& l = layers_[li];
    const std::string p = fmt::format("blk.{}.", li);
    // Every op ends with a barrier (the next op reads what it wrote) and,
    // when timing, a timestamp named after it.
    auto done = [&](const char* op) {
      cs.barrier();
      mark(cs, marks, p + op);
    };
    const bool q_qkv = wants_quantized(l.qkv, n, dim), d_qkv = norm_deferred(l.qkv, n), h_qkv = reads_xh(l.qkv, n);
    norm(l.attn_norm, q_qkv, d_qkv, fused_norm, p + "attn_norm", h_qkv);
    const bool q_att = hp_.head_dim() % 32 == 0 && wants_quantized({&l.attn_output, 1}, n, dim);
    const ops::QuantizedActivations att_q = q_att ? qa : ops::QuantizedActivations{};
    const auto tail = attention_tail(l, n, d_qkv, q_att);
    if (n == 1) decode_attention_fused_ = tail.has_value();
    if (tail) {
      // Decode: attention as the QKV GEMV's tail for positions below
      // tail->fused_rows, the split dispatch after it (idle at those
      // positions) for the rest. Ablation: "attention" left out is the
      // plain QKV GEMV.
      if (keep("attn_qkv")) {
        if (keep("attention"))
          matmul(l.qkv[0].type()).record_attention(cs, l.qkv[0], nq_, nds_, qkv_, {&nss_, hp_.rms_norm_eps}, *tail);
        else
          record_matmul(cs, l.qkv[0], xb_, true, qkv_, n, qkv_width_, 0, false, nullptr, nullptr, nullptr, true);
      }
      if (opts_.prefetch_bytes) record_prefetch(cs, {&l.attn_output, &l.gate_up.front()}, opts_.prefetch_bytes);
      const bool split_after = tail->fused_rows < tail->n_ctx && keep("attention");
      if (split_after) {
        done("attn_qkv+attention");
        attention_rope_q8_->record_rope(cs, qkv_, step_, rope_freqs_, l.k_cache, l.v_cache, att_, att_part_, att_count_,
                                        qkv_width_, n_ctx, rope, att_q, tail->fused_rows);
      }
      done(split_after ? "attention" : "attn_qkv+attention");
    } else {
      if (keep("attn_qkv")) group(l.qkv, l.qkv_offsets, q_qkv, qkv_, qkv_width_, d_qkv, h_qkv);
      mark(cs, marks, p + "attn_qkv");
      if (n == 1) {
        // Decode: RoPE and the KV-cache write happen inside the attention kernel.
        if (keep("attention"))
          (q_att ? *attention_rope_q8_ : *attention_rope_)
            .record_rope(cs, qkv_, step_, rope_freqs_, l.k_cache, l.v_cache, att_, att_part_, att_count_, qkv_width_, n_ctx,
                         rope, att_q);
        if (opts_.prefetch_bytes) record_prefetch(cs, {&l.attn_output, &l.gate_up.front()}, opts_.prefetch_bytes);
      } else {
        rope_kv_->record(cs, qkv_, step_, rope_freqs_, l.k_cache, l.v_cache, n, qkv_width_, n_ctx, rope);
        done("rope_kv");
        (q_att ? *attention_q8_ : *attention_)
            .record(cs, qkv_, step_, l.k_cache, l.v_cache, att_, n, qkv_width_, dim, n_ctx, hp_.head_count,
                    hp_.head_count_kv, hp_.head_dim(), att_q);
      }
      done("attention");
    }
    // x += att Wo^T: the residual add fused into the matmul's output, and
    // where it can, the deferred ffn_norm as its epilogue.
    const bool q_gu = wants_quantized(l.gate_up, n, dim), d_gu = norm_deferred(l.gate_up, n), h_gu = reads_xh(l.gate_up, n);
    const auto ffn_norm_epi = norm_epilogue(l.attn_output, l.ffn_norm, l.gate_up, n);
    if (keep("attn_output"))
      record_matmul(cs, l.attn_output, att_, q_att, x_, n, 0, 0, true, ffn_norm_epi ? &*ffn_norm_epi : nullptr);
    done(ffn_norm_epi ? "attn_output+ffn_norm" : "attn_output");
    norm(l.ffn_norm, q_gu, d_gu, ffn_norm_epi.has_value(), p + "ffn_norm", h_gu);
    const bool q_down = wants_quantized({&l.ffn_down, 1}, n, ff), h_down = reads_xh({&l.ffn_down, 1}, n);
    // Decode: SwiGLU as gate/up's epilogue (ops::GemvEpilogue) where it is one
    // matrix (gate rows, then up rows); down then reads 8-bit h from hq_.
    const bool swiglu_epi = opts_.fuse_epilogues && n == 1 && q_down && q_gu && hq_ && l.gate_up.size() == 1 &&
                            l.gate_up_offsets[0] == 0 && l.gate_up[0].rows() == 2 * ff && up_offset_ == ff &&
                            matmul(l.gate_up[0].type()).can_fuse(l.gate_up[0], n);
    const bool last = li + 1 == layers_.size();
    const GpuMatrix& head = output_ ? *output_ : token_embd_;
    const auto next_epi = last ? norm_epilogue(l.ffn_down, output_norm_, {&head, 1}, n)
                               : norm_epilogue(l.ffn_down, layers_[li + 1].attn_norm, layers_[li + 1].qkv, n);
    // Decode: the whole FFN in one dispatch (ops::FfnTail) where it can;
    // ablation leaving out either kind leaves out that dispatch.
    const bool ffn = swiglu_epi && d_gu && next_epi && opts_.fuse_ffn.value_or(false) && ffn_acc_ && !chain_ &&
                     matmul(l.gate_up[0].type()).can_fuse_ffn(l.gate_up[0], l.ffn_down);
    if (n == 1) decode_ffn_fused_ = ffn;
    if (ffn) {
      if (keep("ffn_gate_up") && keep("ffn_down"))
        matmul(l.gate_up[0].type())
            .record_ffn(cs, l.gate_up[0], nq_, nds_, {&nss_, hp_.rms_norm_eps}, x_,
                        {&l.ffn_down, next_epi->xq, next_epi->xds, next_epi->ss, next_epi->weight, &ffn_acc_});
      done(last ? "ffn+output_norm" : "ffn+attn_norm");
      fused_norm = true;
      continue;
    }
    if (swiglu_epi) {
      const ops::GemvEpilogue epi{ops::GemvEpilogue::Kind::swiglu, hq_, hds_};
      if (keep("ffn_gate_up"))
        record_matmul(cs, l.gate_up[0], xb_, true, gate_up_, n, gate_up_width_, 0, false, &epi, nullptr, nullptr, d_gu);
      done("ffn_gate_up+swiglu");
    } else if (keep("ffn_gate_up")) {
      group(l.gate_up, l.gate_up_offsets, q_gu, gate_up_, gate_up_width_, d_gu, h_gu);
      mark(cs, marks, p + "ffn_gate_up");
      if (h_down)
        swiglu_f16_->record(cs, gate_up_, xh_, n, ff, gate_up_width_, up_offset_, ff);
      else
        (q_down ? *swiglu_q8_ : *swiglu_)
            .record(cs, gate_up_, hidden_, n, ff, gate_up_width_, up_offset_, ff,
                    q_down ? qa : ops::QuantizedActivations{});
      done("swiglu");
    }
    // x += h Wdown^T, and the next layer's attn_norm (or the output norm)
    // as its epilogue where it can.
    if (keep("ffn_down"))
      record_matmul(cs, l.ffn_down, h_down && !swiglu_epi ? xh_ : hidden_, q_down, x_, n, 0, 0, true,
                    next_epi ? &*next_epi : nullptr,
                    swiglu_epi ? &hq_ : nullptr, swiglu_epi ? &hds_ : nullptr);
    done(!next_epi ? "ffn_down" : last ? "ffn_down+output_norm" : "ffn_down+attn_norm");
    fused_norm = next_epi.has_value();
  }
  return fused_norm;
}

void VulkanForward::record_logits(CommandStream& cs, uint32_t row0, uint32_t rows, bool marks, bool normed) {
  const uint32_t dim = hp_.embedding_length, vocab = hp_.vocab_size;
  const GpuMatrix& out = output_ ? *output_ : token_embd_;
  const bool q = wants_quantized({&out, 1}, rows, dim), deferred = norm_deferred({&out, 1}, rows);
  if (normed && !deferred) throw InputError("record_logits: a fused output norm needs the deferred form");
  if (!normed) record_norm(cs, output_norm_, {rows, dim, hp_.rms_norm_eps, row0 * dim, dim, 0, dim}, q, deferred);
  record_matmul(cs, out, xb_, q, logits_, rows, 0, 0, false, nullptr, nullptr, nullptr, deferred);
  cs.barrier();
  cs.copy(logits_, readback_, uint64_t(rows) * vocab * 4);
  cs.barrier();  // what follows (and the timestamp) after the copy
  mark(cs, marks, "output");
}

void VulkanForward::check_positions(size_t n, uint32_t start_pos) const {
  const uint32_t n_ctx = plan_.config.n_ctx;
  if (n == 0) throw InputError("prefill: no tokens");
  if (start_pos > n_ctx || n > n_ctx - start_pos)
    throw InputError(fmt::format("positions {} .. {} are past the context of {} tokens", start_pos,
                                 uint64_t(start_pos) + n - 1, n_ctx));
}

void VulkanForward::write_inputs(std::span<const int32_t> tokens, uint32_t start_pos) {
  for (const int32_t t : tokens)
    if (t < 0 || uint32_t(t) >= hp_.vocab_size)
      throw InputError(fmt::format("token id {} is outside the vocabulary of {} tokens", t, hp_.vocab_size));
  tokens_.upload(tokens.data(), tokens.size_bytes());
  const uint32_t step[4] = {start_pos, 0, 0, 0};
  step_.upload(step, sizeof(step));
}

std::vector<float> VulkanForward::decode(int32_t token, uint32_t pos) {
  decode_on(decode_stream_, chain_, opts_.timestamps, token, pos);
  last_spans_ = &decode_stream_->spans();
  std::vector<float> logits(hp_.vocab_size);
  readback_.download(logits.data(), logits.size() * 4);
  return logits;
}

std::vector<float> VulkanForward::decode_unchained(int32_t token, uint32_t pos) {
  decode_on(unchained_stream_, false, false, token, pos);
  std::vector<float> logits(hp_.vocab_size);
  readback_.download(logits.data(), logits.size() * 4);
  return logits;
}

void VulkanForward::decode_on(std::unique_ptr<CommandStream>& s, bool chained, bool marks, int32_t token, uint32_t pos) {
  check_positions(1, pos);
  write_inputs({&token, 1}, pos);
  if (!s) {  // recorded once, replayed
    s = std::make_unique<CommandStream>(device_, marks ? max_marks() : 0, true);
    if (chained) s->begin_chain(chain_flags_);
    const bool normed = record_layers(*s, 1, marks);
    record_logits(*s, 0, 1, marks, normed);
  }
  s->submit_and_wait();
}

std::vector<float> VulkanForward::prefill(std::span<const int32_t> tokens, uint32_t start_pos, bool all_logits) {
  check_positions(tokens.size(), start_pos);
  const uint32_t vocab = hp_.vocab_size, B = plan_.config.max_batch;
  if (!stream_) stream_ = std::make_unique<CommandStream>(device_, max_marks());
  const bool marks = opts_.timestamps;
  prefill_spans_.clear();
  last_spans_ = &prefill_spans_;
  // Each submit's spans, appended: a prompt of several batches gives one list.
  auto submit = [&] {
    stream_->submit_and_wait();
    prefill_spans_.insert(prefill_spans_.end(), stream_->spans().begin(), stream_->spans().end());
  };
  std::vector<float> out;
  if (all_logits) out.resize(tokens.size() * size_t(vocab));
  // Batches of at most max_batch tokens (attention is causal, so a prompt in
  // pieces gives the same result as in one).
  for (size_t b0 = 0; b0 < tokens.size(); b0 += B) {
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(B, tokens.size() - b0));
    write_inputs(tokens.subspan(b0, n), start_pos + static_cast<uint32_t>(b0));
    // normed: a one-token batch's last down GEMV wrote the output norm's input.
    const bool normed = record_layers(*stream_, n, marks);
    const bool last = b0 + n == tokens.size();
    if (!all_logits) {
      if (last) record_logits(*stream_, n - 1, 1, marks, normed);
      submit();
      continue;
    }
    for (uint32_t r0 = 0; r0 < n; r0 += plan_.logit_rows) {
      const uint32_t rows = std::min(plan_.logit_rows, n - r0);
      record_logits(*stream_, r0, rows, marks, normed);
      submit();
      readback_.download(out.data() + (b0 + r0) * vocab, uint64_t(rows) * vocab * 4);
    }
  }
  if (!all_logits) {
    out.resize(vocab);
    readback_.download(out.data(), uint64_t(vocab) * 4);
  }
  return out;
}

uint32_t VulkanForward::max_marks() const { return opts_.timestamps ? 16 * hp_.block_count + 16 : 0; }

const std::vector<std::string>& VulkanForward::ablation_ops() {
  static const std::vector<std::string> ops{"attn_qkv", "attention", "attn_output", "ffn_gate_up", "ffn_down"};
  return ops;
}

void VulkanForward::set_decode_skip(std::set<std::string> kinds) {
  for (const auto& k : kinds)
    if (std::find(ablation_ops().begin(), ablation_ops().end(), k) == ablation_ops().end())
      throw InputError(fmt::format("decode ablation: unknown op kind '{}' (attn_qkv, attention, attn_output, "
                                   "ffn_gate_up, ffn_down)",
                                   k));
  decode_skip_ = std::move(kinds);
  decode_stream_.reset();
}

void VulkanForward::set_timestamps(bool on) {
  if (on == opts_.timestamps) return;
  opts_.timestamps = on;
  last_spans_ = &prefill_spans_;  // not into the stream about to go
  prefill_spans_.clear();
  decode_stream_.reset();
  stream_.reset();
}

GgmlType VulkanForward::main_weight_type() const {
  std::map<GgmlType, uint64_t> bytes;
  for (const auto& l : layers_) {
    for (const auto& m : l.qkv) bytes[m.type()] += m.gpu_bytes();
    for (const auto& m : l.gate_up) bytes[m.type()] += m.gpu_bytes();
    bytes[l.attn_output.type()] += l.attn_output.gpu_bytes();
    bytes[l.ffn_down.type()] += l.ffn_down.gpu_bytes();
  }
  auto best = bytes.begin();
  for (auto it = bytes.begin(); it != bytes.end(); ++it)
    if (it->second > best->second) best = it;
  return best == bytes.end() ? token_embd_.type() : best->first;
}

uint32_t VulkanForward::decode_dispatches() const { return decode_stream_ ? decode_stream_->dispatch_count() : 0; }
uint32_t VulkanForward::prefill_dispatches() const { return stream_ ? stream_->dispatch_count() : 0; }
uint32_t VulkanForward::decode_chained() const { return decode_stream_ ? decode_stream_->barriers_elided() : 0; }

}  // namespace vkq
