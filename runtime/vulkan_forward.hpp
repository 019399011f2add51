// The llama forward pass on a Vulkan device: the same ops, in the same
// order, as the CPU reference (cpu_forward.hpp), each a kernel:
//
//   x = get_rows(token_embd, tokens)                      [n][dim]
//   per layer:
//     xb = rmsnorm(x, attn_norm)
//     qkv = xb [Wq | Wk | Wv]^T          (one stacked matrix when the types agree)
//     rope_kv: rotate q in place, rotated k and v -> cache rows start_pos + t
//     att = attention(q, K cache, V cache)                (GQA, causal)
//       (decode, one token: one kernel does both: attention_*_rope)
//     x += att Wo^T                      (the residual add in the matmul's output)
//     xb = rmsnorm(x, ffn_norm)
//     gate_up = xb [Wgate | Wup]^T
//     hidden = silu(gate) * up
//     x += hidden Wdown^T
//   logits = rmsnorm(x, output_norm) Wout^T
//
// Matmuls go through ops::Matmul (decode GEMV for n <= 8 tokens, prefill
// GEMM above). Every buffer comes from the forward plan (forward_plan.hpp),
// which `vkq fit` also reads. Positions and token ids live in small
// host-visible buffers that the kernels read, so one decode step is recorded
// once and replayed for every token: a decode is one submit, no host work
// inside it but writing two integers and reading the logits back.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "device.hpp"
#include "forward_plan.hpp"
#include "gpu_weights.hpp"
#include "llama_session.hpp"
#include "ops/elementwise.hpp"
#include "ops/llama_ops.hpp"
#include "ops/matmul.hpp"

namespace vkq {

class LlamaModel;

struct VulkanForwardOptions {
  uint32_t n_ctx = 0;      // KV cache rows (0: the model's context length)
  uint32_t max_batch = 0;  // tokens per prefill pass (0: the plan's default)
  ops::KvType kv = ops::KvType::f16;
  uint64_t seed = 0;       // synthetic weights
  bool timestamps = false; // GPU timestamps after every op of a decode step or prefill (last_spans)
  // Tests: block-type matmuls run the integer-dot GEMV (for every n, as a
  // forced variant does) wherever the device can run it, accelerated or not,
  // so the fused 8-bit producers are exercised on lavapipe.
  bool force_idot = false;
  // Decode runs SwiGLU as the epilogue of the integer-dot gate/up GEMV
  // (ops::GemvEpilogue) and each RMSNorm in the deferred form, as the
  // epilogue of the residual GEMV before it with 1/rms applied by the GEMVs
  // after it, where it can; false: separate dispatches (tests compare the two).
  bool fuse_epilogues = true;
  // Decode: with the epilogues, the whole FFN in one dispatch where the
  // device has 64-bit integer atomics (ops::FfnTail: down's partial sums
  // over the workgroups in fixed point). Unset: VKQ_FUSED_FFN=on|off|auto,
  // auto = off: 21-32% slower than the two GEMVs on the H100
  // (benchmarks/RESULTS.md, "Decode's FFN in one dispatch").
  std::optional<bool> fuse_ffn;
  uint32_t attention_splits = 0;  // decode attention's workgroups per head (0 = ops::attention_splits)
  bool tiled_attention = true;    // prefill attention in query tiles where they fit (ops::Attention)
  uint32_t block_wg = 0, block_loads = 0;  // the GEMVs with an epilogue (ops::MatmulTuning; 0 = defaults)
  uint32_t norm_wg = 0, norm_loads = 0;    // those with the norm epilogue alone (ops::MatmulTuning; 0 = defaults)
  bool block_stage = false;  // ops::MatmulTuning::block_stage
  bool chain_unstaged = false;  // ops::MatmulTuning::chain_unstaged
  uint32_t gemm_bk = 0, gemm_bufs = 0;  // prefill GEMM's K per step and buffers (ops::GemmTuning; 0 = defaults)
  // Decode: beside each layer's attention (latency-bound, little of the
  // memory bandwidth used), read up to this many bytes of the weights the
  // next GEMVs read (attn_output's, then gate/up's) so that they find them
  // in the L2 cache. 0: off.
  uint64_t prefetch_bytes = 0;
  // Decode as one dispatch chain (CommandStream::begin_chain,
  // shaders/common/chain.glsl): the integer-dot GEMVs with an epilogue or an
  // input scale and the 8-bit decode attention wait on their producer's
  // arrival count instead of a barrier, and load their first weights first.
  // The kernels rely on in-order workgroup launch. Experimental: correct
  // on the H200 but slower there than barriers (benchmarks/RESULTS.md,
  // call 40), so unset means off (VKQ_CHAIN=on|off overrides).
  std::optional<bool> chain;
  // Decode: attention as the tail of the QKV GEMV (ops::AttentionTail: the
  // last workgroup of each KV head's rows runs its attention; no dispatch
  // and no barrier of its own) for tokens at positions below this many; the
  // split attention dispatch after it takes the later ones (none is
  // recorded when this covers n_ctx). Where the QKV GEMV reads a deferred
  // norm and attention writes 8-bit blocks (decode's epilogues), not with a
  // chain. Unset: VKQ_FUSED_ATTENTION_ROWS=N if set, else off (0): not yet
  // measured on a GPU (benchmarks/RESULTS.md, "Decode attention as the QKV
  // GEMV's tail"), so not on by default.
  std::optional<uint32_t> fused_attention_rows;
  // Prefill: where every consumer of an RMSNorm's or SwiGLU's output is a
  // GEMM on fp16 activations (act.xh), the op writes act.xh in fp16 itself
  // (rmsnorm_f16, swiglu_f16) instead of fp32 and a ConvertF16 dispatch
  // after it; the same values either way. VKQ_PREFILL_F16_OUT=off (or false
  // here) keeps the conversions (A/B runs, tests).
  bool f16_producers = true;
};

class VulkanForward final : public LlamaSession {
 public:
  // Uploads `model`'s weights (repacked into the GPU layout). The model is
  // not used after the constructor returns.
  VulkanForward(Device& device, const LlamaModel& model, VulkanForwardOptions opts = {});
  // Random weights built on the device at `layout`'s shapes (no data
  // needed): `vkq bench model --synthetic`.
  VulkanForward(Device& device, const LlamaGpuLayout& layout, VulkanForwardOptions opts);
  ~VulkanForward() override;
  VulkanForward(const VulkanForward&) = delete;  // last_spans_ points into the object
  VulkanForward& operator=(const VulkanForward&) = delete;

  uint32_t n_ctx() const override { return plan_.config.n_ctx; }
  uint32_t n_vocab() const override { return hp_.vocab_size; }
  std::string device_name() const override;

  std::vector<float> decode(int32_t token, uint32_t pos) override;
  // The same step without the dispatch chain (barriers between the
  // dispatches, the unchained kernels), whatever options.chain says: the
  // reference that `bench model` checks a chained step against.
  std::vector<float> decode_unchained(int32_t token, uint32_t pos);
  std::vector<float> prefill(std::span<const int32_t> tokens, uint32_t start_pos, bool all_logits = false) override;

  const ForwardPlan& plan() const { return plan_; }
  const LlamaHParams& hparams() const { return hp_; }
  Device& device() const { return device_; }
  // Bytes of weights one decode step reads (every matrix once; the
  // embedding row is negligible and not counted unless tied, where the
  // classifier reads it whole).
  uint64_t weight_bytes_per_token() const { return weight_bytes_per_token_; }
  // GPU time per op of the last decode step (with options.timestamps), in
  // order: "embed", "blk.0.attn_norm", ... "output".
  // Or of the last prefill (every batch's ops, in order); empty without
  // timestamps.
  const std::vector<TimedSpan>& last_spans() const { return *last_spans_; }
  // Turns per-op timestamps in decode steps and prefills on or off (the
  // decode step is recorded again at the next decode).
  void set_timestamps(bool on);
  // Decode steps leave out the dispatches (and barriers) of these op kinds
  // of every layer (kAblationOps); the step is recorded again at the next
  // decode. Its logits are then wrong: this is for timing what each op
  // costs with the rest in place (`bench model --ablate`).
  void set_decode_skip(std::set<std::string> kinds);
  static const std::vector<std::string>& ablation_ops();
  // The type of most weight bytes (the attention and FFN matrices' type).
  GgmlType main_weight_type() const;
  // Dispatches in one recorded decode step.
  uint32_t decode_dispatches() const;
  // Dispatches in the last prefill submit (the last batch's layers and its
  // logits, or the last rows of logits with all_logits).
  uint32_t prefill_dispatches() const;
  // Barriers a decode step replaced by chain waits (0 without a chain).
  uint32_t decode_chained() const;
  // Whether the last recorded decode step runs attention as the QKV GEMV's
  // tail (options.fused_attention_rows).
  bool decode_attention_fused() const { return decode_attention_fused_; }
  // Whether the last recorded decode step ran its FFNs in one dispatch each (ops::FfnTail).
  bool decode_ffn_fused() const { return decode_ffn_fused_; }
  uint32_t fused_attention_rows() const { return fused_rows_; }  // options.fused_attention_rows, resolved (0: off)
  // The kernel variant each matmul weight type runs for n tokens (n > 8:
  // the fp16-activation GEMM's where one has been recorded, matmul_f16;
  // "dequant_f16_<type>+<the F16 GEMM's>" where the type's layer weights
  // are multiplied as fp16 copies, prefill_dequant_f16).
  std::string matmul_variant(GgmlType t, uint32_t n) const;
  // The kernel a batched prefill's attention dispatches (ops::Attention::variant_for).
  std::string prefill_attention_variant() const;

 private:
  struct Layer {
    std::vector<GpuMatrix> qkv;
    std::vector<uint32_t> qkv_offsets;
    GpuMatrix attn_output;
    std::vector<GpuMatrix> gate_up;
    std::vector<uint32_t> gate_up_offsets;
    GpuMatrix ffn_down;
    Buffer attn_norm, ffn_norm, k_cache, v_cache;
    // Its matrices in the order a forward pass multiplies them (as LlamaGpuLayout::Layer::matrices).
    std::vector<const GpuMatrix*> matrices() const;
  };

  VulkanForward(Device& device, const LlamaGpuLayout& layout, VulkanForwardOptions opts, bool synthetic);
  void build_weights(const LlamaGpuLayout& layout, bool synthetic);
  void allocate_activations();
  void create_ops(const LlamaGpuLayout& layout);
  ops::Matmul& matmul(GgmlType t);
  // The fp16-activation GEMM for `w` over n columns where the plan gives it
  // an fp16 copy of its input (act.xh: gemm_reads_f16), else null.
  ops::Matmul* matmul_f16(const GpuMatrix& w, uint32_t n);
  ops::MatmulTuning matmul_tuning() const;
  // Records the whole pass for n tokens (step and tokens already written);
  // the logits of rows [logit_first, n) are not included: see record_logits.
  // True where the last layer's down GEMV also wrote the output norm's input
  // (deferred, in nq_): then record_logits is told so.
  bool record_layers(CommandStream& cs, uint32_t n, bool marks);
  // x_'s rows normed by w into what the consumers read: the deferred form
  // (nq_ / nds_ / nss_), 8-bit blocks (xq_ / xds_), fp16 (xh_, `to_xh`) or
  // fp32 (xb_); then a barrier.
  void record_norm(CommandStream& cs, const Buffer& w, const ops::RmsNorm::Shape& s, bool quantized, bool deferred,
                   bool to_xh = false);
  // rmsnorm of x rows [row0, row0 + rows) into xb, the classifier into
  // logits, and the copy to the readback buffer.
  // `normed`: the norm's output is already in nq_ (record_layers' result).
  void record_logits(CommandStream& cs, uint32_t row0, uint32_t rows, bool marks, bool normed = false);
  void mark(CommandStream& cs, bool marks, const std::string& label);
  // Whether the producer of a `width`-wide activation should also write it
  // quantized: some consumer's matmul reads 8-bit activations for n tokens.
  bool wants_quantized(std::span<const GpuMatrix> consumers, uint32_t n, uint32_t width);
  // Whether the RMSNorm before `consumers` runs deferred for n tokens
  // (decode, every consumer an integer-dot GEMV): its output goes to nq_ /
  // nds_ / nss_, written by the residual GEMV before it where that can take
  // the norm epilogue, else by rmsnorm_q8_deferred.
  bool norm_deferred(std::span<const GpuMatrix> consumers, uint32_t n);
  // The norm epilogue for a residual GEMV `producer` when the norm after it
  // (weight `w`) runs deferred for its consumers; nullopt where it cannot.
  std::optional<ops::GemvEpilogue> norm_epilogue(const GpuMatrix& producer, const Buffer& w,
                                                 std::span<const GpuMatrix> consumers, uint32_t n);
  // `xq` / `xds`: the quantized activations (default xq_ / xds_; nq_ / nds_
  // with `deferred`, the deferred norm's output, then scaled by 1/rms).
  // The QKV GEMV's attention tail for layer l in decode (n = 1, its input
  // the deferred norm `deferred`, attention's output in 8-bit blocks
  // `q_att`), where options and the matmul allow it.
  std::optional<ops::AttentionTail> attention_tail(const Layer& l, uint32_t n, bool deferred, bool q_att);
  // Whether w's matmul for n tokens is a GEMM on fp16 activations in xh_
  // (on its fp16 weight copy, record_dequantized, or on F16 weights).
  bool f16_route(const GpuMatrix& w, uint32_t n);
  // Whether the producer of `consumers`' input writes it to xh_ in fp16
  // (every consumer on the fp16 route; VulkanForwardOptions::f16_producers).
  bool reads_xh(std::span<const GpuMatrix> consumers, uint32_t n);
  // x == xh_: X is already there in fp16 (the producer wrote it), so the
  // fp16 route records no conversion; any other x is fp32.
  void record_matmul(CommandStream& cs, const GpuMatrix& w, const Buffer& x, bool quantized, const Buffer& y, uint32_t n,
                     uint32_t y_stride, uint32_t y_offset, bool accumulate, const ops::GemvEpilogue* epi = nullptr,
                     const Buffer* xq = nullptr, const Buffer* xds = nullptr, bool deferred = false);

  // Decode: read_stream dispatches over the first `bytes` of these
  // matrices' planes, recorded with no barrier before them (they overlap
  // the dispatch recorded just before).
  void record_prefetch(CommandStream& cs, std::initializer_list<const GpuMatrix*> ms, uint64_t bytes);
  void write_inputs(std::span<const int32_t> tokens, uint32_t start_pos);
  void check_positions(size_t n, uint32_t start_pos) const;

  Device& device_;
  LlamaHParams hp_;
  ForwardPlan plan_;
  VulkanForwardOptions opts_;
  uint32_t qkv_width_ = 0, gate_up_width_ = 0, up_offset_ = 0;

  GpuMatrix token_embd_;
  std::unique_ptr<GpuMatrix> output_;  // null: tied to token_embd_
  std::vector<Layer> layers_;
  Buffer output_norm_, rope_freqs_;
  uint32_t n_rope_freqs_ = 0;
  Buffer x_, xb_, qkv_, att_, att_part_, att_count_, ffn_acc_, gate_up_, hidden_, logits_;
  Buffer step_, tokens_, readback_;
  Buffer xq_, xds_;  // activations in 8-bit blocks (act.xq / act.xds), when some matmul uses them
  // Decode's SwiGLU epilogue writes h here (act.hq / act.hds), not over the
  // gate/up GEMV's own input.
  Buffer hq_, hds_;
  // Decode's deferred RMSNorm output (act.nq / act.nds / act.nss): x * w in
  // 8-bit blocks, unscaled, and per-block sums of squares of x.
  Buffer nq_, nds_, nss_;
  Buffer chain_flags_;
  bool chain_ = false;
  uint32_t fused_rows_ = 0;              // options.fused_attention_rows, resolved (0: off)
  bool decode_ffn_fused_ = false;
  bool decode_attention_fused_ = false;  // the last recorded decode step has the QKV attention tail
  Buffer prefetch_sink_;  // read_stream's output word (with opts_.prefetch_bytes)
  const Kernel* prefetch_kernel_ = nullptr;
  uint32_t prefetch_wg_ = 0;
  uint64_t prefetch_slice_ = 0;
  static constexpr uint32_t kPrefetchSlices = 16;
  uint64_t weight_bytes_per_token_ = 0;

  std::map<GgmlType, std::unique_ptr<ops::Matmul>> matmuls_;
  // Prefill GEMMs on an fp16 copy of their activations (act.xh, written by
  // convert_f16_) for the weight types where the plan has gemm_reads_f16.
  std::map<GgmlType, std::unique_ptr<ops::Matmul>> matmuls_f16_;
  std::unique_ptr<ops::ConvertF16> convert_f16_;
  Buffer xh_;
  // Prefill on fp16 copies of block-type layer weights (prefill_dequant_f16;
  // plan: scratch.wh.0 / .1): dequant_order_ lists those matrices as a
  // prefill multiplies them; the copy of matrix i+1 is recorded beside
  // matrix i's GEMM into the other plane. staged_[p]: the index whose copy
  // plane p holds in the stream being recorded (-1: none).
  std::map<GgmlType, std::unique_ptr<ops::DequantF16>> dequant_;
  std::unique_ptr<ops::Matmul> dequant_gemm_;  // F16 weights, fp16 activations
  std::array<Buffer, 2> wh_;
  std::vector<const GpuMatrix*> dequant_order_;
  std::map<const GpuMatrix*, size_t> dequant_index_;
  std::array<int64_t, 2> staged_{-1, -1};
  // The GEMM on w's fp16 copy (the copy recorded first where no plane holds
  // it, and the next weight's beside it); false where w does not take that path.
  bool record_dequantized(CommandStream& cs, const GpuMatrix& w, const Buffer& x, const Buffer& y, uint32_t n,
                          uint32_t y_stride, uint32_t y_offset, bool accumulate);
  std::unique_ptr<ops::GetRows> get_rows_;
  std::unique_ptr<ops::RmsNorm> rmsnorm_;
  std::unique_ptr<ops::RopeKv> rope_kv_;
  std::unique_ptr<ops::Attention> attention_, attention_rope_;  // prefill; decode with RoPE and the KV write fused
  std::unique_ptr<ops::Swiglu> swiglu_;
  std::unique_ptr<ops::RmsNorm> rmsnorm_q8_;  // the _q8 producers (null when no matmul reads 8-bit activations)
  std::unique_ptr<ops::RmsNorm> rmsnorm_deferred_;  // null without act.nq
  std::unique_ptr<ops::Attention> attention_q8_, attention_rope_q8_;
  std::unique_ptr<ops::Swiglu> swiglu_q8_;
  std::unique_ptr<ops::RmsNorm> rmsnorm_f16_;  // the fp16 producers (null without act.xh or f16_producers)
  std::unique_ptr<ops::Swiglu> swiglu_f16_;

  std::unique_ptr<CommandStream> decode_stream_;  // recorded once, replayed
  std::unique_ptr<CommandStream> unchained_stream_;  // decode_unchained's
  std::set<std::string> decode_skip_;                // set_decode_skip
  void decode_on(std::unique_ptr<CommandStream>& s, bool chained, bool marks, int32_t token, uint32_t pos);
  std::unique_ptr<CommandStream> stream_;         // prefill, re-recorded per call
  std::vector<TimedSpan> prefill_spans_;                // every batch's, of the last prefill
  const std::vector<TimedSpan>* last_spans_ = &prefill_spans_;  // the decode stream's or prefill_spans_
  uint32_t max_marks() const;      // timestamps a stream holds: none unless timing
};

}  // namespace vkq
