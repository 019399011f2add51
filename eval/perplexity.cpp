#include "perplexity.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error.hpp"

namespace vkq::eval {

std::vector<std::vector<int32_t>> perplexity_windows(const std::vector<int32_t>& tokens, int32_t bos, uint32_t ctx) {
  if (ctx < 4) throw InputError(fmt::format("--ctx {}: windows need at least 4 tokens", ctx));
  const size_t from_text = bos >= 0 ? ctx - 1 : ctx;
  if (tokens.size() < from_text)
    throw InputError(fmt::format("the text has {} tokens; one window of --ctx {} needs {}", tokens.size(), ctx, from_text),
                     "use a longer text or a smaller --ctx");
  std::vector<std::vector<int32_t>> windows;
  for (size_t off = 0; off + from_text <= tokens.size(); off += from_text) {
    auto& w = windows.emplace_back();
    w.reserve(ctx);
    if (bos >= 0) w.push_back(bos);
    w.insert(w.end(), tokens.begin() + std::ptrdiff_t(off), tokens.begin() + std::ptrdiff_t(off + from_text));
  }
  return windows;
}

void TokenScorer::add(std::span<const float> logits, int32_t next, std::span<const float> ref_logits) {
  nll_.add(-token_logprob(logits, next));
  if (ref_logits.empty()) return;
  ref_nll_.add(-token_logprob(ref_logits, next));
  const Fidelity f = fidelity(ref_logits, logits);
  kld_.add(f.kld);
  delta_p_.add(f.delta_p);
  same_top_ += f.same_top;
}

namespace {

double stddev(const Summary& s) {
  if (s.count() < 2) return 0;
  const double m = s.mean();
  double ss = 0;
  for (const double v : s.values()) ss += (v - m) * (v - m);
  return std::sqrt(ss / double(s.count() - 1));
}

double errof_mean(const Summary& s) { return s.count() ? stddev(s) / std::sqrt(double(s.count())) : 0; }

}  // namespace

Perplexity perplexity_of(const Summary& nll) {
  const double ppl = std::exp(nll.mean());
  return {ppl, ppl * errof_mean(nll)};
}

TokenScorer score_windows(LlamaSession& model, LlamaSession* ref, const std::vector<std::vector<int32_t>>& windows,
                          const PerplexityOptions& opts) {
  if (ref && ref->n_vocab() != model.n_vocab())
    throw InputError(fmt::format("the model has {} tokens in its vocabulary, the reference {}", model.n_vocab(),
                                 ref->n_vocab()));
  TokenScorer s;
  const size_t V = model.n_vocab();
  for (size_t w = 0; w < windows.size(); ++w) {
    const auto& win = windows[w];
    const uint32_t n = uint32_t(win.size());
    const std::vector<float> lm = model.prefill(win, 0, true);
    std::vector<float> lr;
    if (ref) lr = ref->prefill(win, 0, true);
    for (uint32_t p = first_scored(n); p + 1 < n; ++p) {
      const std::span<const float> m(lm.data() + size_t(p) * V, V);
      const std::span<const float> r = ref ? std::span<const float>(lr.data() + size_t(p) * V, V) : std::span<const float>();
      s.add(m, win[p + 1], r);
    }
    if (opts.progress) opts.progress(w + 1, windows.size());
  }
  return s;
}

nlohmann::json scores_json(const TokenScorer& s) {
  const Perplexity p = perplexity_of(s.nll());
  nlohmann::ordered_json j = {
      {"tokens", s.count()}, {"ppl", p.value}, {"ppl_stderr", p.err}, {"nll_mean", s.nll().mean()}};
  if (!s.has_reference()) return j;
  const Perplexity r = perplexity_of(s.ref_nll());
  const double n = double(s.count()), top1 = double(s.same_top()) / n;
  double ss = 0;
  for (const double v : s.delta_p().values()) ss += v * v;
  j["reference"] = {{"ppl", r.value}, {"ppl_stderr", r.err}, {"nll_mean", s.ref_nll().mean()}};
  j["ppl_ratio"] = p.value / r.value;
  j["kld"] = s.kld().to_json();
  j["kld"]["stderr"] = errof_mean(s.kld());
  j["top1"] = {{"rate", top1}, {"stderr", std::sqrt(top1 * (1 - top1) / n)}, {"same", s.same_top()}};
  nlohmann::json dp = s.delta_p().to_json();
  dp["rms"] = std::sqrt(ss / n);
  dp["min"] = s.delta_p().quantile(0);
  dp["p1"] = s.delta_p().quantile(0.01);
  dp["p10"] = s.delta_p().quantile(0.10);
  j["delta_p"] = std::move(dp);
  return j;
}

}  // namespace vkq::eval
