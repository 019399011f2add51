#include "pipeline.hpp"


#include <fmt/format.h>

#include "awq.hpp"
#include "block_grid.hpp"
#include "calib_forward.hpp"
#include "calib_vulkan.hpp"
#include "gptq.hpp"
#include "gram.hpp"
#include "ops/elementwise.hpp"

namespace vkq::quant {
namespace {

// A weight matrix as the pipeline sees it: its current float weights (AWQ's
// scales folded in; after quantization, the dequantized weights).
struct Linear {
  std::string name;
  uint64_t rows = 0, cols = 0;
  GgmlType type = GgmlType::F32;  // as planned
  std::vector<float> w;           // [rows][cols]
  // AWQ's folds so far: w = diag(row_factor) w_orig diag(col_scale) (empty: ones).
  std::vector<float> row_factor, col_scale;

  TensorView view() const { return f32_view(name, w, rows, cols); }
};

class Pipeline {
 public:
  Pipeline(const QuantizeOptions& o, const LlamaModel& m, const std::vector<TensorPlan>& plan,
           const std::vector<std::vector<int32_t>>& windows, std::vector<std::string>& warnings,
           const CalibratedOptions& co, Device* device)
      : o_(o), co_(co), m_(m), hp_(m.hparams()), warnings_(warnings) {
    if (device) batch_ = std::make_unique<VulkanCalibBatch>(*device, hp_, windows, o.threads);
    else batch_ = std::make_unique<CalibBatch>(hp_, windows, o.threads);
    for (const auto& p : plan) plan_[p.name] = &p;
  }

  std::map<std::string, QuantizedTensor> run();

 private:
  Linear& lin(const std::string& name);
  std::vector<float>& norm(const std::string& name);
  Gram gram(std::span<const float> x, size_t dim) const {
    Gram g(dim);
    g.add(x.data(), x.size() / dim, o_.threads);
    return g;
  }
  // AWQ: scales for a group of linears sharing the inputs behind `g`, folded
  // into the group's columns (the caller folds 1/s into the op before).
  // Empty when AWQ does not apply.
  std::vector<float> awq_scales(const std::vector<Linear*>& group, const Gram& g);
  void fold(const std::vector<Linear*>& group, std::span<const float> s, double alpha);
  void quantize(Linear& l, const Gram& g);
  void progress(double f, const std::string& what) const {
    if (o_.progress) o_.progress(f, what);
  }

  const QuantizeOptions& o_;
  const CalibratedOptions co_;
  const LlamaModel& m_;
  const LlamaHParams& hp_;
  std::unique_ptr<CalibBatch> batch_;
  std::vector<std::string>& warnings_;
  std::map<std::string, const TensorPlan*> plan_;
  std::map<std::string, Linear> lin_;
  std::map<std::string, std::vector<float>> norms_;
  std::map<std::string, QuantizedTensor> out_;
};

Linear& Pipeline::lin(const std::string& name) {
  auto it = lin_.find(name);
  if (it != lin_.end()) return it->second;
  const auto& t = m_.file().tensor(name);
  const TensorView v = TensorView::make(name, t.type, t.row_length(), t.n_rows(), t.data);
  Linear l{name, v.rows, v.cols, plan_.at(name)->type, v.to_floats(), {}, {}};
  return lin_.emplace(name, std::move(l)).first->second;
}

std::vector<float>& Pipeline::norm(const std::string& name) {
  auto it = norms_.find(name);
  if (it != norms_.end()) return it->second;
  const auto& t = m_.file().tensor(name);
  return norms_.emplace(name, TensorView::make(name, t.type, t.row_length(), t.n_rows(), t.data).to_floats())
      .first->second;
}

// AWQ: 1/s folded into the rows of the linear whose outputs are the next
// one's inputs (v before o, up before down); nothing when s is empty.
void fold_rows(Linear& l, std::span<const float> s) {
  if (s.empty()) return;
  if (l.row_factor.empty()) l.row_factor.assign(l.rows, 1.0f);
  for (uint64_t r = 0; r < l.rows; ++r) {
    for (uint64_t j = 0; j < l.cols; ++j) l.w[r * l.cols + j] /= s[r];
    l.row_factor[r] /= s[r];
  }
}

void Pipeline::fold(const std::vector<Linear*>& group, std::span<const float> s, double alpha) {
  const uint64_t cols = group[0]->cols;
  for (Linear* l : group) {
    if (l->col_scale.empty()) l->col_scale.assign(cols, 1.0f);
    for (uint64_t r = 0; r < l->rows; ++r)
      for (uint64_t j = 0; j < cols; ++j) l->w[r * cols + j] *= s[j];
    for (uint64_t j = 0; j < cols; ++j) l->col_scale[j] *= s[j];
    out_[l->name].note = fmt::format("AWQ alpha {:.2f}", alpha);
  }
}

std::vector<float> Pipeline::awq_scales(const std::vector<Linear*>& group, const Gram& g) {
  if (o_.method != Method::awq) return {};
  std::vector<AwqLinear> quantized;
  for (const Linear* l : group)
    if (is_block_type(l->type)) quantized.push_back({l->w, l->rows, l->type});
  if (quantized.empty()) return {};
  const AwqScales s = awq_search_scales(quantized, group[0]->cols, g.sum(), g.abs_mean(), o_.threads);
  fold(group, s.s, s.alpha);
  return s.s;
}

void Pipeline::quantize(Linear& l, const Gram& g) {
  if (co_.awq_fold_only) {
    out_[l.name].q = quantize_rtn(GgmlType::F32, l.w, l.rows, l.cols);
    return;
  }
  const Eigen::MatrixXd G = g.sum();
  const double n = double(g.count()) * double(l.rows);
  QuantizedTensor& t = out_[l.name];
  // RTN of the weights as they were (AWQ's scales taken out) on the inputs
  // as they were, for the report.
  const bool scaled = !l.row_factor.empty() || !l.col_scale.empty();
  std::vector<float> w0 = l.w;
  Eigen::MatrixXd G0 = G;
  if (scaled) {
    for (uint64_t r = 0; r < l.rows; ++r)
      for (uint64_t j = 0; j < l.cols; ++j) {
        float& v = w0[r * l.cols + j];
        if (!l.row_factor.empty()) v /= l.row_factor[r];
        if (!l.col_scale.empty()) v /= l.col_scale[j];
      }
    if (!l.col_scale.empty()) {
      const Eigen::Map<const Eigen::VectorXf> cs(l.col_scale.data(), Eigen::Index(l.cols));
      G0 = cs.cast<double>().asDiagonal() * G * cs.cast<double>().asDiagonal();
    }
  }
  const QuantizedMatrix rtn = quantize_rtn(l.type, w0, l.rows, l.cols);
  t.mse_rtn = output_sse(G0, w0, rtn.weights, l.rows, l.cols) / n;

  if (!is_block_type(l.type) || o_.method == Method::rtn) {
    t.q = scaled ? quantize_rtn(l.type, l.w, l.rows, l.cols) : rtn;
  } else if (o_.method == Method::gptq) {
    auto r = gptq_quantize(l.w, l.rows, l.cols, g.hessian(),
                           {.type = l.type, .act_order = o_.act_order, .damp = o_.damp, .threads = o_.threads});
    if (!r.warning.empty()) {
      t.note = "GPTQ: " + r.warning;
      warnings_.push_back(l.name + ": " + r.warning);
    }
    t.q = std::move(r.q);
  } else {
    t.q = awq_clip_quantize(l.type, l.w, l.rows, l.cols, G, o_.threads);
  }
  // The method's error in the original output space (AWQ's row factors out).
  if (l.row_factor.empty()) {
    t.mse = output_sse(G, l.w, t.q.weights, l.rows, l.cols) / n;
  } else {
    std::vector<float> a = l.w, b = t.q.weights;
    for (uint64_t r = 0; r < l.rows; ++r)
      for (uint64_t j = 0; j < l.cols; ++j) {
        a[r * l.cols + j] /= l.row_factor[r];
        b[r * l.cols + j] /= l.row_factor[r];
      }
    t.mse = output_sse(G, a, b, l.rows, l.cols) / n;
  }
  l.w = t.q.weights;
}

std::map<std::string, QuantizedTensor> Pipeline::run() {
  const size_t dim = hp_.embedding_length, ff = hp_.feed_forward_length;
  const double steps = hp_.block_count + 1.0;
  const std::vector<float> rope = m_.rope_freqs() ? m_.rope_freqs()->to_floats() : std::vector<float>{};

  // An embedding table of its own is RTN-quantized first, so the
  // calibration runs on what the quantized model will look up. A tied one
  // is quantized last, as the classifier (the calibration sees its float
  // rows until then).
  Linear& embd = lin("token_embd.weight");
  if (!m_.tied_output()) {
    QuantizedTensor& t = out_[embd.name];
    t.q = quantize_rtn(co_.awq_fold_only ? GgmlType::F32 : embd.type, embd.w, embd.rows, embd.cols);
    embd.w = t.q.weights;
  }
  std::vector<float> x = batch_->embed(embd.view());

  for (uint32_t layer = 0; layer < hp_.block_count; ++layer) {
    auto name = [layer](const char* t) { return fmt::format("blk.{}.{}.weight", layer, t); };
    progress(layer / steps, fmt::format("block {} of {}: attention", layer + 1, hp_.block_count));
    Linear &q = lin(name("attn_q")), &k = lin(name("attn_k")), &v = lin(name("attn_v")), &o = lin(name("attn_output"));
    auto& attn_norm = norm(name("attn_norm"));
    std::vector<float> xb = batch_->rmsnorm(x, attn_norm);
    if (o_.method == Method::awq) {
      const auto s = awq_scales({&q, &k, &v}, gram(xb, dim));
      if (!s.empty()) {
        for (size_t j = 0; j < dim; ++j) attn_norm[j] /= s[j];
        xb = batch_->rmsnorm(x, attn_norm);
      }
      if (hp_.head_count_kv == hp_.head_count && is_block_type(o.type)) {
        // o's scales, on its inputs with the unquantized q, k, v; folded into v's rows.
        const auto a = batch_->attention(batch_->linear(q.view(), xb), batch_->linear(k.view(), xb),
                                        batch_->linear(v.view(), xb), rope);
        const auto so = awq_scales({&o}, gram(a, dim));
        fold_rows(v, so);
      }
    }
    {
      const Gram g = gram(xb, dim);
      quantize(q, g);
      quantize(k, g);
      quantize(v, g);
    }
    const std::vector<float> a =
        batch_->attention(batch_->linear(q.view(), xb), batch_->linear(k.view(), xb), batch_->linear(v.view(), xb), rope);
    quantize(o, gram(a, dim));
    ops::add_ref(x, batch_->linear(o.view(), a), x);

    progress((layer + 0.5) / steps, fmt::format("block {} of {}: feed-forward", layer + 1, hp_.block_count));
    Linear &gate = lin(name("ffn_gate")), &up = lin(name("ffn_up")), &down = lin(name("ffn_down"));
    auto& ffn_norm = norm(name("ffn_norm"));
    xb = batch_->rmsnorm(x, ffn_norm);
    if (o_.method == Method::awq) {
      const auto s = awq_scales({&gate, &up}, gram(xb, dim));
      if (!s.empty()) {
        for (size_t j = 0; j < dim; ++j) ffn_norm[j] /= s[j];
        xb = batch_->rmsnorm(x, ffn_norm);
      }
      if (is_block_type(down.type)) {
        const auto h = batch_->swiglu(batch_->linear(gate.view(), xb), batch_->linear(up.view(), xb));
        const auto sd = awq_scales({&down}, gram(h, ff));
        fold_rows(up, sd);
      }
    }
    {
      const Gram g = gram(xb, dim);
      quantize(gate, g);
      quantize(up, g);
    }
    const std::vector<float> h = batch_->swiglu(batch_->linear(gate.view(), xb), batch_->linear(up.view(), xb));
    quantize(down, gram(h, ff));
    ops::add_ref(x, batch_->linear(down.view(), h), x);
  }

  progress(hp_.block_count / steps, "classifier");
  const Gram g = gram(batch_->rmsnorm(x, norm("output_norm.weight")), dim);
  quantize(m_.tied_output() ? embd : lin("output.weight"), g);
  for (auto& [n, w] : norms_) {
    QuantizedTensor& t = out_[n];
    t.q = quantize_rtn(GgmlType::F32, w, 1, w.size());
  }
  progress(1.0, "calibrated");
  return std::move(out_);
}

}  // namespace

std::map<std::string, QuantizedTensor> quantize_calibrated(const QuantizeOptions& o, const LlamaModel& model,
                                                           const std::vector<TensorPlan>& plan,
                                                           const std::vector<std::vector<int32_t>>& windows,
                                                           std::vector<std::string>& warnings,
                                                           const CalibratedOptions& co, Device* device) {
  return Pipeline(o, model, plan, windows, warnings, co, device).run();
}

}  // namespace vkq::quant
