// The calibrated, layer-by-layer quantization of a llama model: the
// calibration windows go through the model one block at a time (calib_forward.hpp),
// each linear layer is quantized when its inputs are at hand, and the layers
// after it see the quantized layer's outputs:
//   per block:  xb = attn_norm(x)            -> q, k, v     (AWQ: scales folded into attn_norm)
//               a = attention(q, k, v)       -> o           (AWQ: scales folded into v's rows when
//                                                            n_kv_heads == n_heads, see below)
//               x += o(a); xb = ffn_norm(x)  -> gate, up    (AWQ: scales folded into ffn_norm)
//               h = silu(gate) * up          -> down        (AWQ: scales folded into up's rows)
//               x += down(h)
//   then        output_norm(x)               -> the classifier (output.weight, or token_embd when tied)
// v -> o folding needs one v channel per o input channel: with grouped-query
// attention (n_kv_heads < n_heads) a v channel feeds n_heads / n_kv_heads
// query heads' outputs, which would each want their own scale, so o gets
// only the clipping search there. A fold is applied only when the weights it
// scales are written in a block type (scaling an F16/F32 tensor gains nothing).
//
// token_embd: a table of its own is RTN-quantized before the first block
// (its rows are looked up, not multiplied by calibration inputs), so the
// calibration sees the quantized embeddings. A table tied to the classifier
// (stories260K's) is quantized last, with the method, as the classifier
// on the final normed hidden states: on stories260K that took the
// embedding's share of Q4_0's mean KLD from 0.039 (RTN) to 0.025 (GPTQ) and
// 0.023 (AWQ's clipping), error redistributed for the classifier costing
// the lookups less than it gains (quant/RESULTS.md).
//
// Every quantized linear gets its output error on its calibration inputs,
// with the method and with RTN of the unscaled weights.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "llama_model.hpp"
#include "quantize.hpp"
#include "rtn.hpp"
#include "tensor_plan.hpp"

namespace vkq::quant {

struct QuantizedTensor {
  QuantizedMatrix q;      // data in the planned type (F32 for norms)
  double mse = -1, mse_rtn = -1;
  std::string note;       // e.g. "AWQ alpha 0.35", "GPTQ damping raised"
};

struct CalibratedOptions {
  // For tests of AWQ's folding: search and fold the scales as usual, but
  // write every weight F32 as folded, unquantized (the model's function
  // must not change).
  bool awq_fold_only = false;
};

// Runs the calibrated quantization of every planned tensor that has a
// calibration role (the linears, token_embd, the norms AWQ folds into).
// Tensors missing from the result are written by plain conversion.
std::map<std::string, QuantizedTensor> quantize_calibrated(const QuantizeOptions& o, const LlamaModel& model,
                                                           const std::vector<TensorPlan>& plan,
                                                           const std::vector<std::vector<int32_t>>& windows,
                                                           std::vector<std::string>& warnings,
                                                           const CalibratedOptions& co = {});

}  // namespace vkq::quant
