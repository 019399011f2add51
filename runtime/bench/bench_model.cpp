#include "bench/bench_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <span>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "error.hpp"

namespace vkq::bench {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One decode pass: tokens[i] at position i, host-timed (seconds).
double decode_pass(VulkanForward& fwd, std::span<const int32_t> tokens) {
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < tokens.size(); ++i) fwd.decode(tokens[i], static_cast<uint32_t>(i));
  return seconds_since(t0);
}

// The largest |a - b| over the largest |b| (a NaN in a counts as infinite).
double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 1e-30;
  for (size_t j = 0; j < a.size(); ++j) {
    diff = std::max(diff, std::isnan(a[j]) ? INFINITY : double(std::abs(a[j] - b[j])));
    scale = std::max(scale, double(std::abs(b[j])));
  }
  return diff / scale;
}

// "blk.12.attn_qkv" -> "attn_qkv".
std::string op_kind(const std::string& label) {
  if (label.rfind("blk.", 0) != 0) return label;
  const auto dot = label.find('.', 4);
  return dot == std::string::npos ? label : label.substr(dot + 1);
}

// GPU time per op kind, summed over layers (and weighted: 1 / tokens to
// average decode steps), in the order the kinds first appear.
struct OpTimes {
  std::map<std::string, double> us;
  std::vector<std::string> order;
  void add(const std::vector<TimedSpan>& spans, double weight) {
    for (const auto& s : spans) {
      const auto k = op_kind(s.label);
      if (!us.count(k)) order.push_back(k);
      us[k] += s.ms * 1e3 * weight;
    }
  }
  // The kinds, largest first, into ops; returns their sum.
  double take(std::vector<OpTime>& ops) const {
    double total = 0;
    for (const auto& k : order) {
      ops.push_back({k, us.at(k)});
      total += us.at(k);
    }
    std::stable_sort(ops.begin(), ops.end(), [](const OpTime& a, const OpTime& b) { return a.us_per_token > b.us_per_token; });
    return total;
  }
};

}  // namespace

ModelBenchResult bench_model(VulkanForward& fwd, const ModelBenchOptions& opt) {
  if (opt.reps < 1) throw InputError("bench model: at least one repetition");
  if (opt.prompt == 0 && opt.gen == 0) throw InputError("bench model: nothing to run (--prompt 0 --gen 0)");
  if (uint64_t(opt.prompt) > fwd.n_ctx() || uint64_t(opt.gen) > fwd.n_ctx())
    throw InputError(fmt::format("bench model: {} prompt / {} generated tokens need a context of that many; the session holds {}",
                                 opt.prompt, opt.gen, fwd.n_ctx()));
  ModelBenchResult r;
  r.copy_gbps = opt.copy_gbps > 0 ? opt.copy_gbps : bench_copy(fwd.device()).gbps;
  r.weight_bytes_per_token = fwd.weight_bytes_per_token();
  std::mt19937_64 rng(opt.seed);
  std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(fwd.n_vocab()) - 1);
  std::vector<int32_t> prompt(opt.prompt), gen(std::max<uint32_t>(opt.gen, 1));
  for (auto& t : prompt) t = tok(rng);
  for (auto& t : gen) t = tok(rng);

  // Warm-up: pipelines created, the decode step recorded, clocks up. The
  // same work again until 300 ms have passed, as bench.cpp's warm_up: an
  // H100 idles at 345 MHz, and one prefill and 8 decode steps (~60 ms on
  // Llama-2-7B) left a fresh machine's first timed runs at half speed
  // (benchmarks/RESULTS.md, session of 2026-12-06 (5), call 1).
  const auto w0 = std::chrono::steady_clock::now();
  do {
    if (opt.prompt) fwd.prefill(prompt, 0);
    for (uint32_t i = 0; i < std::min<uint32_t>(opt.gen, 8); ++i) fwd.decode(gen[i], i);
  } while (seconds_since(w0) < 0.3);

  for (int rep = 0; rep < opt.reps; ++rep) {
    if (opt.prompt) {
      const auto t0 = std::chrono::steady_clock::now();
      fwd.prefill(prompt, 0);
      r.prompt_runs.push_back(opt.prompt / seconds_since(t0));
    }
    if (opt.gen) r.gen_runs.push_back(opt.gen / decode_pass(fwd, std::span(gen).first(opt.gen)));
  }
  r.prompt_tokens_per_s = median(r.prompt_runs);
  r.gen_tokens_per_s = median(r.gen_runs);
  if (r.weight_bytes_per_token) r.roofline_tokens_per_s = r.copy_gbps * 1e9 / double(r.weight_bytes_per_token);
  if (r.roofline_tokens_per_s > 0) r.decode_roofline_share = r.gen_tokens_per_s / r.roofline_tokens_per_s;
  if (r.gen_tokens_per_s > 0) r.decode_us_per_token = 1e6 / r.gen_tokens_per_s;

  r.dispatches_per_token = fwd.decode_dispatches();
  r.chained_per_token = fwd.decode_chained();
  if (r.chained_per_token && opt.gen) {
    // The KV cache holds the last repetition's rows, so position i sees
    // the same history both ways.
    for (const uint32_t i : {0u, opt.gen / 2, opt.gen - 1}) {
      const auto a = fwd.decode(gen[i], i), b = fwd.decode_unchained(gen[i], i);
      r.chain_max_rel_diff = std::max(r.chain_max_rel_diff, max_rel_diff(a, b));
      r.chain_same_top = r.chain_same_top && std::max_element(a.begin(), a.end()) - a.begin() ==
                                                 std::max_element(b.begin(), b.end()) - b.begin();
      ++r.chain_checked;
    }
    r.chain_ok = r.chain_same_top && r.chain_max_rel_diff <= ModelBenchResult::kChainTolerance;
  }
  if (opt.ablate && opt.gen) {
    auto us_per_token = [&] {  // median over the repetitions, like tg
      std::vector<double> us;
      decode_pass(fwd, std::span(gen).first(std::min<uint32_t>(opt.gen, 4)));  // records the step
      for (int rep = 0; rep < opt.reps; ++rep) us.push_back(1e6 * decode_pass(fwd, std::span(gen).first(opt.gen)) / opt.gen);
      return median(us);
    };
    fwd.set_decode_skip({});
    r.ablation_base_us = us_per_token();
    double sum = 0;
    for (const auto& kind : VulkanForward::ablation_ops()) {
      fwd.set_decode_skip({kind});
      const double saved = r.ablation_base_us - us_per_token();
      r.ablation.push_back({kind, saved});
      sum += saved;
    }
    fwd.set_decode_skip({});
    r.ablation_rest_us = r.ablation_base_us - sum;
  }
  if (opt.breakdown && fwd.device().caps().timestamps) {
    // The same decode steps and prefill with a timestamp after every op.
    fwd.set_timestamps(true);
    if (opt.gen) {
      OpTimes decode;
      for (uint32_t i = 0; i < opt.gen; ++i) {
        fwd.decode(gen[i], i);
        decode.add(fwd.last_spans(), 1.0 / opt.gen);
      }
      r.gpu_us_per_token = decode.take(r.ops);
    }
    if (opt.prompt) {
      OpTimes prefill;
      fwd.prefill(prompt, 0);
      prefill.add(fwd.last_spans(), 1.0);
      r.prefill_gpu_us = prefill.take(r.prefill_ops);
    }
    fwd.set_timestamps(false);
  }
  r.matmul_variant_decode = fwd.matmul_variant(fwd.main_weight_type(), 1);
  r.matmul_variant_prefill = fwd.matmul_variant(fwd.main_weight_type(), std::max<uint32_t>(opt.prompt, 1));
  r.attention_variant_prefill = fwd.prefill_attention_variant();
  return r;
}

nlohmann::json to_json(const ModelBenchResult& r) {
  nlohmann::json ops = nlohmann::json::array(), prefill_ops = nlohmann::json::array(), ablation = nlohmann::json::array();
  for (const auto& o : r.ablation) ablation.push_back({{"op", o.op}, {"us_per_token", o.us_per_token}});
  for (const auto& o : r.ops) ops.push_back({{"op", o.op}, {"us_per_token", o.us_per_token}});
  for (const auto& o : r.prefill_ops) prefill_ops.push_back({{"op", o.op}, {"us", o.us_per_token}});
  return {{"prompt_tokens_per_s", r.prompt_tokens_per_s},
          {"gen_tokens_per_s", r.gen_tokens_per_s},
          {"prompt_runs", r.prompt_runs},
          {"gen_runs", r.gen_runs},
          {"weight_bytes_per_token", r.weight_bytes_per_token},
          {"copy_gbps", r.copy_gbps},
          {"roofline_tokens_per_s", r.roofline_tokens_per_s},
          {"decode_roofline_share", r.decode_roofline_share},
          {"decode_us_per_token", r.decode_us_per_token},
          {"gpu_us_per_token", r.gpu_us_per_token},
          {"dispatches_per_token", r.dispatches_per_token},
          {"chained_per_token", r.chained_per_token},
          {"chain_check",
           {{"positions", r.chain_checked},
            {"max_rel_diff", r.chain_max_rel_diff},
            {"same_top", r.chain_same_top},
            {"ok", r.chain_ok}}},
          {"matmul_variant_decode", r.matmul_variant_decode},
          {"matmul_variant_prefill", r.matmul_variant_prefill},
          {"attention_variant_prefill", r.attention_variant_prefill},
          {"breakdown", ops},
          {"prefill_gpu_us", r.prefill_gpu_us},
          {"prefill_breakdown", prefill_ops},
          {"ablation", ablation},
          {"ablation_base_us", r.ablation_base_us},
          {"ablation_rest_us", r.ablation_rest_us}};
}

}  // namespace vkq::bench
