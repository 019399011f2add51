// What the Vulkan forward pass puts on a device, and how many bytes each
// piece takes: the one source of truth for both the allocation plan of
// VulkanForward (it allocates exactly these buffers, by name) and the memory
// fit model of `vkq fit` (which plans without a device or a file).
//
// Layout of a llama model on the GPU (llama_gpu_layout):
//   token_embd            GpuMatrix [vocab][dim] (also the classifier when tied)
//   per layer             attn_norm, ffn_norm: fp32 [dim]
//                         qkv: q | k | v stacked into one matrix when the three
//                           share a type ("fused"), else three matrices that
//                           write side by side into one [n][dim + 2 kv_dim] row
//                         attn_output [dim][dim]
//                         gate_up: gate | up stacked when they share a type
//                         ffn_down [dim][ff]
//   output_norm           fp32 [dim]; output [vocab][dim] unless tied
//   rope_freqs            fp32 [head_dim / 2] (or 1 unused float)
// Activations (fp32, for a batch of up to max_batch tokens): x (residual,
// which the output projections add into), xb (norm output), qkv, att,
// gate_up, hidden; logits [logit_rows][vocab] on the device and a host
// readback of the same size; the step and token buffers; the KV cache
// [layers][n_ctx][kv_dim] of the KV type, K and V; and the integer-dot
// matmuls' quantized-activation scratch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "device_caps.hpp"
#include "ggml_types.hpp"
#include "llama_hparams.hpp"
#include "ops/llama_ops.hpp"
#include "tensor_view.hpp"

namespace vkq {

class LlamaModel;

// One GPU matrix: the rows of one tensor, or of several stacked in order.
struct GpuMatrixSpec {
  std::string name;                // tensor name, or "blk.N.attn_qkv" / "blk.N.ffn_gate_up" when stacked
  GgmlType type = GgmlType::F32;
  uint32_t rows = 0, cols = 0;
  std::vector<TensorView> parts;   // the file tensors stacked (empty: synthetic weights)
};

// Matrices that together produce one activation row: each writes its rows
// at its offset (q at 0, k at dim, v at dim + kv_dim).
struct MatrixGroup {
  std::vector<GpuMatrixSpec> matrices;
  std::vector<uint32_t> offsets;
  uint32_t width() const;  // offset + rows of the last matrix
};

struct LlamaGpuLayout {
  LlamaHParams hp;
  GpuMatrixSpec token_embd;
  std::optional<GpuMatrixSpec> output;  // nullopt: tied to token_embd
  struct Layer {
    MatrixGroup qkv, gate_up;
    GpuMatrixSpec attn_output, ffn_down;
    std::optional<TensorView> attn_norm, ffn_norm;  // nullopt: synthetic
    // Its matrices in the order a forward pass multiplies them: q | k | v,
    // attn_output, gate | up, ffn_down.
    std::vector<const GpuMatrixSpec*> matrices() const;
  };
  std::vector<Layer> layers;
  std::optional<TensorView> output_norm;
  std::vector<float> rope_freqs;  // empty: none
  // Every matrix once (token_embd, layer matrices, output).
  std::vector<const GpuMatrixSpec*> all_matrices() const;
};

// The layout of a loaded model (views into its file).
LlamaGpuLayout llama_gpu_layout(const LlamaModel& model);
// The layout of a synthetic model: every matrix of `type` (token_embd and
// output too, as `vkq synth` writes them), no data.
LlamaGpuLayout llama_gpu_layout(const LlamaHParams& hp, GgmlType type, bool tied_output,
                                std::vector<float> rope_freqs = {});

struct ForwardConfig {
  uint32_t n_ctx = 0;
  uint32_t max_batch = 0;      // 0: 512, fewer if the logits would pass 64 MiB
  ops::KvType kv = ops::KvType::f16;
  bool force_idot = false;     // VulkanForwardOptions::force_idot (tests)
  bool synthetic = false;      // weights generated on the device: no upload, no staging buffer
  uint32_t attention_splits = 0;  // decode attention's workgroups per head (0: ops::attention_splits; the plan holds the choice)
};

// One planned device allocation.
struct PlannedBuffer {
  std::string name;       // "blk.0.attn_qkv/quants#0", "kv.k.3", "act.x", ...
  std::string component;  // "weights", "kv_cache", "activations", "scratch", "io"
  uint64_t bytes = 0;
  bool host_visible = false;  // host memory (staging, readback) rather than device-local
};

struct ForwardPlan {
  ForwardConfig config;       // max_batch resolved
  uint32_t logit_rows = 0;    // rows of logits computed per output-head pass
  std::vector<PlannedBuffer> buffers;
  uint64_t staging_bytes = 0;  // largest upload staging buffer alive at once (device-local weights)
  // Per layer matrix, layer by layer in Layer::matrices() order: whether
  // prefill multiplies it as an fp16 copy in scratch.wh.0 / .1
  // (prefill_dequant_f16, and its plane within the device's buffer limit).
  std::vector<bool> dequantized;

  uint64_t component_bytes(const std::string& component) const;
  uint64_t device_bytes() const;  // every planned buffer
  uint64_t bytes(const std::string& name) const;  // InputError if not planned
  // Peak of all allocations while loading: every buffer plus the staging
  // of the largest weight plane.
  uint64_t peak_bytes() const { return device_bytes() + staging_bytes; }
};

// The activation width of each named buffer for one token, and the other
// sizes, from the layout; `caps` gives the chunking limits and whether
// device-local memory is host-visible (no staging).
ForwardPlan plan_forward(const LlamaGpuLayout& layout, const DeviceCaps& caps, ForwardConfig cfg);

// Whether a matmul on `type` weights uses the integer-dot GEMV on `caps`
// (it then needs quantized-activation scratch); `forced`: wherever it can run.
bool matmul_uses_idot(const DeviceCaps& caps, GgmlType type, bool forced = false);

// Whether the prefill GEMM on `type` weights reads an fp16 copy of its
// activations on `caps` (the plan's act.xh, VulkanForward's
// ops::ConvertF16): by default (VKQ_PREFILL_F16 unset or auto) for F16
// weights where the device's GEMM on fp16 activations is the
// VK_NV_cooperative_matrix2 kernel (measured faster there, not for the block
// types); VKQ_PREFILL_F16=on wherever an fp16-activation GEMM runs (tests,
// A/B), off never; anything else is an InputError.
bool gemm_reads_f16(const DeviceCaps& caps, GgmlType type);

// Whether prefill's GEMMs on `type` weights (a block type) run on an fp16
// copy of each weight instead: ops::DequantF16 writes it into one of two
// scratch planes (the plan's scratch.wh.0 / .1, each the largest layer
// matrix's fp16 plane), the next weight's copy beside the GEMM before it,
// and the F16 GEMM reads it with an fp16 copy of the activations (act.xh).
// By default (VKQ_PREFILL_DEQUANT unset or auto) where the F16 GEMM on
// fp16 activations is the VK_NV_cooperative_matrix2 kernel (H100: faster
// than decoding blocks in the GEMM; benchmarks/RESULTS.md); on wherever the
// kernels exist (tests, A/B), off never; anything else is an InputError.
bool prefill_dequant_f16(const DeviceCaps& caps, GgmlType type);

// An auto|on|off switch from the environment variable `name` (unset or
// empty: "auto"); anything else is an InputError naming it.
std::string auto_on_off(const char* name);

}  // namespace vkq
