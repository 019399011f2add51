// vkq bench copy|chain|matmul|model: device bandwidth and dequant-matmul
// kernels timed with GPU timestamps (median of many runs), chains of
// dependent dispatches timed on the host, and the whole forward pass
// (prefill and decode tokens/s, decode's share of the bandwidth roofline,
// and a per-op time breakdown).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "bench/bench_model.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "instance.hpp"
#include "kernel.hpp"
#include "llama_model.hpp"
#include "model_configs.hpp"
#include "vulkan_forward.hpp"

namespace vkq::cli {
namespace {

nlohmann::json device_json(const Device& d) {
  const auto& c = d.caps();
  return {{"name", c.name}, {"driver", c.driver_name}, {"driver_info", c.driver_info},
          {"driver_version", c.driver_version_str}, {"api_version", c.api_version_str}, {"profile", c.profile},
          {"device_uuid", c.device_uuid}};
}

std::unique_ptr<Device> open_for_bench(const Instance& inst, const std::string& spec, bool kernel_stats = false) {
  if (spec == "cpu") throw InputError("bench measures Vulkan devices; 'cpu' has nothing to time", "devices: " + inst.describe_devices());
  auto options = DeviceOptions::from_env();
  options.kernel_stats = kernel_stats;
  return open_device(inst, spec, options);
}

// Every kernel `dev` created, with the driver's statistics of each
// (DeviceOptions::kernel_stats); null where the device does not report them.
nlohmann::json kernel_stats_json(const Device& dev) {
  if (!dev.kernel_stats()) return nullptr;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [spec, k] : dev.kernels()) {
    nlohmann::json stats = nlohmann::json::array();
    for (const auto& s : k->stats()) {
      nlohmann::json e{{"name", s.name}, {"value", s.value}, {"description", s.description}};
      if (!s.executable.empty()) e["executable"] = s.executable;
      stats.push_back(std::move(e));
    }
    out.push_back({{"kernel", spec->variant}, {"spec_constants", spec->spec_constants}, {"stats", std::move(stats)}});
  }
  return out;
}

void print_kernel_stats(const Device& dev) {
  if (!dev.kernel_stats()) {
    std::printf("  kernel statistics: not reported by '%s' (no VK_KHR_pipeline_executable_properties)\n",
                dev.caps().name.c_str());
    return;
  }
  std::printf("  kernels (the driver's statistics of each, VK_KHR_pipeline_executable_properties):\n");
  for (const auto& [spec, k] : dev.kernels()) {
    std::vector<std::string> parts;
    for (const auto& s : k->stats())
      parts.push_back(fmt::format("{}{}{} {}", s.executable, s.executable.empty() ? "" : ": ", s.name, s.value));
    std::printf("    %s [%s]: %s\n", spec->variant.c_str(), fmt::format("{}", fmt::join(spec->spec_constants, ",")).c_str(),
                fmt::format("{}", fmt::join(parts, ", ")).c_str());
  }
}

struct ModelOpts {
  std::string model, synthetic, type, device, kv = "f16";
  uint32_t prompt = 512, gen = 128, batch = 0;
  int reps = 3;
  uint64_t seed = 1, copy_mib = 0;
  bool json = false, no_breakdown = false, force = false, no_epilogues = false, ablate = false;
  uint32_t attention_splits = 0;  // 0: default
  uint32_t block_wg = 0, block_loads = 0, norm_wg = 0, norm_loads = 0;  // 0: defaults
  bool block_stage = false, chain_unstaged = false;
  bool no_tiled_attention = false;
  bool kernel_stats = false;
  uint32_t gemm_bk = 0, gemm_bufs = 0;  // 0: defaults
  uint64_t prefetch_mib = 0;
  std::string chain = "auto";
  std::optional<uint32_t> fused_attention_rows;  // unset: the default (VulkanForwardOptions)
};

void run_bench_model(Cli& cli, const ModelOpts& o) {
  if (o.model.empty() == o.synthetic.empty())
    throw InputError("bench model: give a MODEL file or --synthetic CONFIG (one of them)",
                     "configs: " + fmt::format("{}", fmt::join(known_model_configs(), ", ")));
  std::optional<GgmlType> type;
  if (!o.type.empty()) {
    type = parse_ggml_type(o.type);
    if (!type || !ggml_type_info(*type).supported)
      throw InputError(fmt::format("--type '{}': expected f32, f16, bf16, q8_0, q4_0 or q4_1", o.type));
  }
  if (!o.synthetic.empty() && !type) throw InputError("bench model --synthetic needs --type");
  Instance inst;
  auto dev = open_for_bench(inst, o.device, o.kernel_stats);
  VulkanForwardOptions fo;
  fo.n_ctx = std::max<uint32_t>(std::max(o.prompt, o.gen), 1);
  fo.fuse_epilogues = !o.no_epilogues;
  fo.attention_splits = o.attention_splits;
  fo.tiled_attention = !o.no_tiled_attention;
  fo.block_wg = o.block_wg;
  fo.block_loads = o.block_loads;
  fo.norm_wg = o.norm_wg;
  fo.norm_loads = o.norm_loads;
  fo.block_stage = o.block_stage;
  fo.chain_unstaged = o.chain_unstaged;
  fo.gemm_bk = o.gemm_bk;
  fo.gemm_bufs = o.gemm_bufs;
  fo.prefetch_bytes = o.prefetch_mib << 20;
  if (o.chain != "auto") fo.chain = o.chain == "on";
  fo.fused_attention_rows = o.fused_attention_rows;
  fo.kv = o.kv == "f32" ? ops::KvType::f32 : ops::KvType::f16;
  fo.max_batch = o.batch;
  fo.seed = o.seed;
  // The bandwidth reference first, so its buffers are gone before the
  // model's allocations are counted.
  const double copy_gbps = bench::bench_copy(*dev, o.copy_mib << 20).gbps;
  dev->reset_peak();
  const uint64_t base = dev->memory_stats().current;
  std::unique_ptr<VulkanForward> fwd;
  std::string what;
  if (!o.synthetic.empty()) {
    auto cfg = load_model_config(o.synthetic);
    if (fo.n_ctx > cfg.hp.context_length) {
      if (!o.force)
        throw InputError(fmt::format("{}: {} tokens exceed its context of {}", cfg.name, fo.n_ctx, cfg.hp.context_length),
                         "--force runs it anyway (random weights: only the timing and memory mean anything)");
      fmt::print(stderr, "warning: {}: {} tokens beyond its trained context of {} (--force)\n", cfg.name, fo.n_ctx,
                 cfg.hp.context_length);
      cfg.hp.context_length = fo.n_ctx;
    }
    fwd = std::make_unique<VulkanForward>(*dev, llama_gpu_layout(cfg.hp, *type, cfg.tied_embeddings, cfg.rope_freqs()), fo);
    what = fmt::format("{} (synthetic) {}", cfg.name, ggml_type_name(*type));
  } else {
    const auto model = LlamaModel::open(o.model);
    if (fo.n_ctx > model.hparams().context_length)
      throw InputError(fmt::format("{}: {} tokens exceed its context of {}", o.model, fo.n_ctx, model.hparams().context_length));
    fwd = std::make_unique<VulkanForward>(*dev, model, fo);
    if (type && fwd->main_weight_type() != *type)
      throw InputError(fmt::format("{} holds {} weights, not {} (--type is for --synthetic)", o.model,
                                   ggml_type_name(fwd->main_weight_type()), ggml_type_name(*type)));
    what = fmt::format("{} {}", o.model, ggml_type_name(fwd->main_weight_type()));
  }
  bench::ModelBenchOptions bo;
  bo.prompt = o.prompt;
  bo.gen = o.gen;
  bo.reps = o.reps;
  bo.seed = o.seed;
  bo.breakdown = !o.no_breakdown;
  bo.ablate = o.ablate;
  bo.copy_gbps = copy_gbps;
  const auto r = bench::bench_model(*fwd, bo);
  const auto& plan = fwd->plan();
  const uint64_t measured = dev->memory_stats().peak - base;
  if (o.json) {
    nlohmann::json j{{"schema", "vkq.bench_model/1"},
                     {"vkq_version", VKQ_VERSION},
                     {"device", device_json(*dev)},
                     {"model", what},
                     {"prompt", o.prompt},
                     {"gen", o.gen},
                     {"reps", o.reps},
                     {"kv", o.kv},
                     {"epilogues", fo.fuse_epilogues},
                     {"attention_splits", plan.config.attention_splits},
                     {"tiled_attention", fo.tiled_attention},
                     {"block_wg", o.block_wg},        // 0: the default (ops::MatmulTuning)
                     {"block_loads", o.block_loads},
                     {"norm_wg", o.norm_wg},
                     {"norm_loads", o.norm_loads},
                     {"block_stage", o.block_stage},
                     {"chain_unstaged", o.chain_unstaged},
                     {"gemm_bk", o.gemm_bk},  // 0: the default (ops::GemmTuning)
                     {"gemm_bufs", o.gemm_bufs},
                     {"prefetch_mib", o.prefetch_mib},
                     {"chain", o.chain},
                     {"fused_attention", fwd->decode_attention_fused()},
                     {"fused_ffn", fwd->decode_ffn_fused()},
                     {"fused_attention_rows", fwd->fused_attention_rows()},
                     {"memory", {{"planned_peak", plan.peak_bytes()}, {"measured_peak", measured}}},
                     {"result", bench::to_json(r)}};
    if (o.kernel_stats) j["kernel_stats"] = kernel_stats_json(*dev);
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s on %s (kv %s%s)\n", what.c_str(), dev->caps().name.c_str(), o.kv.c_str(),
                fwd->decode_ffn_fused() ? ", decode FFN in one dispatch" : "");
    if (o.prompt)
      std::printf("  pp%u: %.1f tokens/s (median of %d; matmul %s)\n", o.prompt, r.prompt_tokens_per_s, o.reps,
                  r.matmul_variant_prefill.c_str());
    if (o.gen)
      std::printf("  tg%u: %.1f tokens/s = %.1f us/token (median of %d; matmul %s, %u dispatches per token, %u chained)\n",
                  o.gen, r.gen_tokens_per_s, r.decode_us_per_token, o.reps, r.matmul_variant_decode.c_str(),
                  r.dispatches_per_token, r.chained_per_token);
    std::printf("  roofline: %s of weights per token at %.1f GB/s copy = %.1f tokens/s; decode at %.1f%% of it\n",
                format_bytes(r.weight_bytes_per_token).c_str(), r.copy_gbps, r.roofline_tokens_per_s,
                100.0 * r.decode_roofline_share);
    if (!r.ops.empty()) {
      std::printf("  decode step, GPU time per token: %.1f us of %.1f us wall (the rest: submit, wait, readback, gaps)\n",
                  r.gpu_us_per_token, r.decode_us_per_token);
      for (const auto& op : r.ops)
        std::printf("    %-16s %9.2f us  %5.1f%%\n", op.op.c_str(), op.us_per_token,
                    r.decode_us_per_token > 0 ? 100.0 * op.us_per_token / r.decode_us_per_token : 0.0);
    }
    std::printf("  memory: planned peak %s, measured peak %s\n", format_bytes(plan.peak_bytes()).c_str(),
                format_bytes(measured).c_str());
    if (!r.ablation.empty()) {
      const double layers = double(std::max<uint32_t>(fwd->hparams().block_count, 1));
      std::printf("  decode by removal (host-timed, %.1f us per token with every op):\n", r.ablation_base_us);
      for (const auto& op : r.ablation)
        std::printf("    %-16s %9.2f us per token  %7.2f us per layer  %5.1f%%\n", op.op.c_str(), op.us_per_token,
                    op.us_per_token / layers, 100.0 * op.us_per_token / r.ablation_base_us);
      std::printf("    %-16s %9.2f us per token                     %5.1f%%\n", "rest", r.ablation_rest_us,
                  100.0 * r.ablation_rest_us / r.ablation_base_us);
    }
    if (o.kernel_stats) print_kernel_stats(*dev);
    if (r.chain_checked)
      std::printf("  chain check: chained against unchained logits at %u positions: max difference %.2e of the "
                  "largest logit, top token %s\n",
                  r.chain_checked, r.chain_max_rel_diff, r.chain_same_top ? "the same" : "DIFFERENT");
  }
  cli.result = 0;
  if (!r.chain_ok) {
    std::fprintf(stderr, "vkq: bench model: the chained decode step's logits differ from the unchained step's "
                         "(%.2e of the largest logit, tolerance %.0e%s): its timings are not valid\n",
                 r.chain_max_rel_diff, bench::ModelBenchResult::kChainTolerance,
                 r.chain_same_top ? "" : ", top token different");
    cli.result = 1;
  }
}

void add_bench_model_command(Cli& cli, CLI::App* bench) {
  auto o = std::make_shared<ModelOpts>();
  auto* m = bench->add_subcommand("model", "Forward pass: prefill and decode tokens/s (like llama-bench pp/tg) and the roofline");
  m->add_option("model", o->model, "GGUF model (or use --synthetic)");
  m->add_option("--synthetic", o->synthetic, "Random weights built on the device at a named config's shapes or a config.json");
  m->add_option("--type", o->type, "Weight type for --synthetic: f32, f16, bf16, q8_0, q4_0, q4_1");
  m->add_option("--prompt", o->prompt, "Prompt tokens prefilled in one call (pp; default 512, 0 = skip)");
  m->add_option("--gen", o->gen, "Tokens decoded one at a time (tg; default 128, 0 = skip)");
  m->add_option("--reps", o->reps, "Repetitions (median reported; default 3)")->check(CLI::Range(1, 100));
  m->add_option("--kv", o->kv, "KV cache type: f16 (default) or f32")->check(CLI::IsMember({"f16", "f32"}));
  m->add_option("--batch", o->batch, "Tokens per prefill pass (default: the plan's)");
  m->add_option("--seed", o->seed, "Seed for synthetic weights and tokens");
  m->add_option("--copy-mib", o->copy_mib, "Size of the copy that sets the bandwidth reference (default: as bench copy)");
  m->add_option("--device", o->device, "Device index or name substring");
  m->add_flag("--no-breakdown", o->no_breakdown, "Skip the per-op timestamp run");
  m->add_flag("--kernel-stats", o->kernel_stats,
              "List every kernel the run created with the driver's statistics of its compiled code (registers, "
              "shared memory, ...) where the device reports them (VK_KHR_pipeline_executable_properties)");
  m->add_flag("--ablate", o->ablate,
              "Decode again with each op kind left out of every layer: host-timed µs per token each costs "
              "(the logits of those runs are wrong; timing only)");
  m->add_flag("--no-epilogues", o->no_epilogues,
              "Decode: RMSNorm and SwiGLU as dispatches of their own, not folded into the GEMVs (for comparison)");
  m->add_option("--attention-splits", o->attention_splits,
                "Decode: workgroups per head of the attention kernel (default: enough to fill a large GPU)")
      ->check(CLI::Range(1u, ops::kMaxAttentionSplits));
  m->add_flag("--no-tiled-attention", o->no_tiled_attention,
              "Prefill: attention with one workgroup per token and head, not in query tiles (for comparison)");
  m->add_option("--block-wg", o->block_wg, "Decode: invocations per workgroup of the GEMVs with an epilogue (default 512, the residual ones 1024: "
                "--norm-wg; 256 in a dispatch chain)")
      ->check(CLI::IsMember({64u, 128u, 256u, 512u, 1024u}));
  m->add_option("--block-loads", o->block_loads,
                "Decode: weight loads in flight per invocation in the GEMVs with an epilogue (default 2; 4 in a chain)")
      ->check(CLI::Range(1u, 32u));
  m->add_option("--norm-wg", o->norm_wg,
                "Decode: invocations per workgroup of the residual GEMVs with the norm epilogue (attn_output, down; "
                "default 1024, or --block-wg where it is given; 256 in a dispatch chain)")
      ->check(CLI::IsMember({64u, 128u, 256u, 512u, 1024u}));
  m->add_option("--norm-loads", o->norm_loads,
                "Decode: weight loads in flight per invocation in those GEMVs (default: as --block-loads)")
      ->check(CLI::Range(1u, 32u));
  m->add_option("--fused-attention-rows", o->fused_attention_rows,
                "Decode: attention runs as the QKV GEMV's tail for positions below N, the split kernel after it for "
                "later ones (default: VKQ_FUSED_ATTENTION_ROWS, else 0: always the split kernel; experimental, not yet "
                "measured on a GPU)");
  m->add_flag("--chain-unstaged", o->chain_unstaged,
              "Decode: the chained GEMVs read x from memory, not from a copy in shared memory (for comparison)");
  m->add_flag("--block-stage", o->block_stage,
              "Decode: the GEMVs with an epilogue read x from a copy in shared memory (slower on the H200)");
  m->add_option("--gemm-bk", o->gemm_bk,
                "Prefill: K per step of the cooperative-matrix GEMM (a multiple of 32; default 64 where it divides K, else 32)");
  m->add_option("--gemm-bufs", o->gemm_bufs,
                "Prefill: shared-memory buffers per operand of that GEMM (1 or 2; default 1 for steps over 32, else 2)")
      ->check(CLI::Range(1u, 2u));
  m->add_option("--chain", o->chain,
                "Decode: dependent GEMVs and attention wait on arrival counts instead of barriers (auto: off, or "
                "VKQ_CHAIN; experimental: wrong logits on the H200, for timing experiments only)")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  m->add_option("--prefetch-mib", o->prefetch_mib,
                "Decode: MiB of attn_output's and gate/up's weights read into the L2 cache beside each layer's "
                "attention (default 0: off)")
      ->check(CLI::Range(uint64_t(0), uint64_t(4096)));
  m->add_flag("--force", o->force, "--synthetic: allow a context beyond the config's trained one");
  m->add_flag("--json", o->json, "Print one JSON document");
  m->callback([&cli, o] { run_bench_model(cli, *o); });
}

// "28.3M" -> 28300000, "4Ki" -> 4096, "100" -> 100.
uint64_t parse_size(const std::string& s) {
  size_t end = 0;
  double v = -1;
  try {
    v = std::stod(s, &end);
  } catch (const std::exception&) {
  }
  const std::string unit = v >= 0 ? s.substr(end) : "";
  static const std::pair<const char*, double> kUnits[] = {{"", 1},      {"k", 1e3},         {"K", 1e3},
                                                           {"M", 1e6},   {"G", 1e9},         {"Ki", 1024.0},
                                                           {"Mi", 1048576.0}, {"Gi", 1073741824.0}};
  for (const auto& [u, f] : kUnits)
    if (v >= 0 && unit == u && v * f < 1.8e19) return static_cast<uint64_t>(v * f);
  throw InputError(fmt::format("--sizes: '{}' is not a size in bytes (a number with an optional k, M, G, Ki, Mi or Gi)", s));
}

}  // namespace

void add_bench_command(Cli& cli) {
  auto* bench = cli.app.add_subcommand("bench", "Benchmarks: copy bandwidth, dispatch chains, matmul kernels, the forward pass");
  bench->require_subcommand(1);

  struct CopyOpts {
    std::string device;
    bool json = false;
    uint64_t mib = 0;
    int runs = 20;
  };
  auto co = std::make_shared<CopyOpts>();
  auto* copy = bench->add_subcommand("copy", "Device memory bandwidth from a large buffer copy (read + write bytes)");
  copy->add_option("--device", co->device, "Device index or name substring (default VKQ_DEVICE, else the best)");
  copy->add_option("--mib", co->mib, "Buffer size in MiB (default: 1 GiB or 1/8 of device memory)");
  copy->add_option("--runs", co->runs, "Timed runs (median reported)")->check(CLI::Range(1, 1000));
  copy->add_flag("--json", co->json, "Print one JSON document");
  copy->callback([&cli, co] {
    Instance inst;
    auto dev = open_for_bench(inst, co->device);
    const auto r = bench::bench_copy(*dev, co->mib << 20, co->runs);
    if (co->json) {
      std::printf("%s\n", nlohmann::json{{"device", device_json(*dev)}, {"copy", bench::to_json(r)}}.dump(2).c_str());
    } else {
      std::printf("%s: copy %s: %.1f GB/s (read + write, median of %d): shader %.1f us = %.1f GB/s, "
                  "vkCmdCopyBuffer %.1f us = %.1f GB/s\n",
                  dev->caps().name.c_str(), format_bytes(r.bytes).c_str(), r.gbps, r.runs, r.shader_us, r.shader_gbps,
                  r.transfer_us, r.transfer_gbps);
    }
    cli.result = 0;
  });

  struct ChainOpts {
    std::string device;
    std::vector<std::string> sizes{"0"};
    uint32_t layers = 32, wg = 256;
    int runs = 5;
    uint64_t copy_mib = 0;
    bool json = false, no_barriers = false, constant_fill = false;
    bench::ChainOptions link;  // --linked and --groups, bound in place (their defaults are bench's)
  };
  auto ho = std::make_shared<ChainOpts>();
  auto* chain = bench->add_subcommand(
      "chain", "Dependent memory-bound dispatches: what a decode step's structure costs with perfect kernels");
  chain->add_option("--device", ho->device, "Device index or name substring");
  chain->add_option("--sizes", ho->sizes,
                    "Bytes read by each dispatch of one layer, comma-separated, with k/M/G (10^3..) or Ki/Mi/Gi "
                    "suffixes; 0 = a one-workgroup dispatch that reads nothing (default 0)")
      ->delimiter(',');
  chain->add_option("--layers", ho->layers, "Repeats of the sizes per chain (default 32)")->check(CLI::Range(1u, 4096u));
  chain->add_option("--wg", ho->wg, "Invocations per workgroup (default 256)");
  chain->add_option("--runs", ho->runs, "Timed chains, one submit each (median reported)")->check(CLI::Range(1, 1000));
  chain->add_option("--copy-mib", ho->copy_mib, "Size of the copy that sets the bandwidth reference (default: as bench copy)");
  chain->add_flag("--no-barriers", ho->no_barriers, "No barrier between the dispatches (they may overlap)");
  chain->add_flag("--linked", ho->link.linked,
                  "Dispatch-chain links instead of barriers: each dispatch's workgroups wait until every workgroup "
                  "of the one before has counted itself in a flag (as decode's VKQ_CHAIN=on)");
  chain->add_option("--replicas", ho->link.replicas, "--linked: counters per flag, each polled by a share of the workgroups (default 1)")
      ->check(CLI::Range(1u, 256u));
  chain->add_option("--spacing", ho->link.spacing, "--linked: words between a flag's counters (default 32: 128 bytes)")
      ->check(CLI::Range(1u, 256u));
  chain->add_option("--backoff", ho->link.backoff, "--linked: dependent integer steps between two polls (default 0)")
      ->check(CLI::Range(0u, 1u << 20));
  chain->add_flag("--early", ho->link.early, "--linked: each invocation's first load issued before the wait");
  chain->add_flag("--acquire-load", ho->link.acquire_load,
                  "--linked: an acquire load of the counter after the polls (the chain's first correct form)");
  chain->add_flag("--persistent", ho->link.persistent,
                  "The whole chain in one dispatch of --groups workgroups (all resident at once) with a grid-wide "
                  "wait between two sizes' reads, as a persistent decode kernel would run");
  chain->add_option("--prefetch", ho->link.prefetch,
                    "--persistent: each invocation's first N loads of the next size issued before the wait (default 0)")
      ->check(CLI::Range(0u, 8u));
  chain->add_option("--groups", ho->link.groups,
                    "Workgroups per dispatch, each reading a grid-stride share (default: one 16-byte load per invocation)")
      ->check(CLI::Range(0u, 65535u));
  chain->add_flag("--constant-fill", ho->constant_fill,
                  "Fill the memory with one repeated word (compressible), not random bits");
  chain->add_flag("--json", ho->json, "Print one JSON document");
  chain->callback([&cli, ho] {
    bench::ChainOptions o = ho->link;
    o.bytes.clear();
    for (const auto& s : ho->sizes) o.bytes.push_back(parse_size(s));
    o.layers = ho->layers;
    o.wg = ho->wg;
    o.runs = ho->runs;
    o.barriers = !ho->no_barriers;
    o.constant_fill = ho->constant_fill;
    o.copy_bytes = ho->copy_mib << 20;
    Instance inst;
    auto dev = open_for_bench(inst, ho->device);
    const auto r = bench::bench_chain(*dev, o);
    if (ho->json) {
      std::printf("%s\n", nlohmann::json{{"device", device_json(*dev)}, {"options", {{"sizes", o.bytes}, {"layers", o.layers},
                                                                                   {"barriers", o.barriers}, {"wg", o.wg},
                                                                                   {"linked", o.linked}, {"replicas", o.replicas},
                                                                                   {"spacing", o.spacing}, {"backoff", o.backoff},
                                                                                   {"early", o.early}, {"groups", o.groups},
                                                                                   {"acquire_load", o.acquire_load},
                                                                                   {"persistent", o.persistent},
                                                                                   {"prefetch", o.prefetch},
                                                                                   {"constant_fill", o.constant_fill}}},
                                          {"chain", bench::to_json(r)}}
                               .dump(2)
                               .c_str());
    } else {
      std::printf("%s: %u dispatches%s reading %s: %.1f us (median of %d, host time less a %.1f us empty submit), "
                  "%.2f us per dispatch; the bytes at %.1f GB/s copy: %.1f us = %.1f%% of the chain\n",
                  dev->caps().name.c_str(), r.dispatches,
                  !o.barriers    ? " without barriers"
                  : o.persistent ? fmt::format(" in one persistent dispatch of {} workgroups (prefetch {})", o.groups,
                                               o.prefetch).c_str()
                  : o.linked     ? fmt::format(" linked ({} links, {} x {} words per flag, backoff {}{}{})", r.links, o.replicas,
                                            o.spacing, o.backoff, o.early ? ", early" : "",
                                            o.acquire_load ? ", acquire load" : "").c_str()
                              : " with barriers",
                  format_bytes(r.bytes).c_str(), r.median_us, r.runs, r.submit_us, r.us_per_dispatch, r.copy_gbps,
                  r.roofline_us, 100.0 * r.roofline_share);
      for (size_t i = 0; i < r.entry_us.size(); ++i)
        std::printf("  %s per dispatch: %.2f us (timestamp after each)\n", format_bytes(o.bytes[i]).c_str(), r.entry_us[i]);
    }
    cli.result = 0;
  });

  struct MatmulOpts {
    std::string device, type = "q4_0", act = "f32", variant;
    uint32_t m = 4096, k = 4096, n = 1, wg = 0, rows = 0, unroll = 0, gemm_wg = 0, tile_m = 0, tile_n = 0,
             gemm_bk = 0, gemm_bufs = 0;
    int runs = 20;
    uint64_t seed = 1, copy_mib = 0;
    bool json = false;
  };
  auto mo = std::make_shared<MatmulOpts>();
  auto* mm = bench->add_subcommand("matmul", "Dequant-matmul Y = W X: checks against the CPU reference, then times it");
  mm->add_option("--device", mo->device, "Device index or name substring");
  mm->add_option("--type", mo->type, "Weight type: f32, f16, bf16, q8_0, q4_0, q4_1");
  mm->add_option("--m", mo->m, "Weight rows (outputs)")->check(CLI::Range(1u, 1u << 24));
  mm->add_option("--k", mo->k, "Weight columns (inputs)")->check(CLI::Range(1u, 1u << 24));
  mm->add_option("--n", mo->n, "Activation columns (tokens)")->check(CLI::Range(1u, 1u << 16));
  mm->add_option("--act", mo->act, "Activation type: f32 or f16")->check(CLI::IsMember({"f32", "f16"}));
  mm->add_option("--variant", mo->variant, "Force a kernel variant (see shaders/variants.txt)");
  mm->add_option("--wg", mo->wg, "GEMV workgroup size (tuning)");
  mm->add_option("--rows", mo->rows, "GEMV rows per workgroup (tuning)");
  mm->add_option("--unroll", mo->unroll, "Integer-dot GEMV granules in flight per invocation (tuning)");
  mm->add_option("--gemm-wg", mo->gemm_wg, "GEMM invocations per workgroup (tuning, n > 8)");
  mm->add_option("--tile-m", mo->tile_m, "GEMM weight rows per workgroup tile (tuning, n > 8)");
  mm->add_option("--tile-n", mo->tile_n, "GEMM activation columns per workgroup tile (tuning, n > 8)");
  mm->add_option("--gemm-bk", mo->gemm_bk, "Cooperative-matrix GEMM: K per step (a multiple of 32; tuning, n > 8)");
  mm->add_option("--gemm-bufs", mo->gemm_bufs, "Cooperative-matrix GEMM: shared-memory buffers per operand (1 or 2; tuning)")
      ->check(CLI::Range(1u, 2u));
  mm->add_option("--runs", mo->runs, "Timed runs (median reported)")->check(CLI::Range(20, 10000));
  mm->add_option("--seed", mo->seed, "Seed for the random data");
  mm->add_option("--copy-mib", mo->copy_mib, "Size of the copy that sets the bandwidth reference (default: as bench copy)");
  mm->add_flag("--json", mo->json, "Print one JSON document");
  mm->callback([&cli, mo] {
    const auto t = parse_ggml_type(mo->type);
    if (!t) throw InputError(fmt::format("--type '{}': expected f32, f16, bf16, q8_0, q4_0 or q4_1", mo->type));
    Instance inst;
    auto dev = open_for_bench(inst, mo->device);
    bench::MatmulOptions o;
    o.type = *t;
    o.m = mo->m;
    o.k = mo->k;
    o.n = mo->n;
    o.act = mo->act == "f16" ? ops::ActType::f16 : ops::ActType::f32;
    o.variant = mo->variant;
    o.tuning.wg = mo->wg;
    o.tuning.rows = mo->rows;
    o.tuning.unroll = mo->unroll;
    o.tuning.gemm = {mo->gemm_wg, mo->tile_m, mo->tile_n, mo->gemm_bk, mo->gemm_bufs};
    o.runs = mo->runs;
    o.seed = mo->seed;
    o.copy_bytes = mo->copy_mib << 20;
    const auto r = bench::bench_matmul(*dev, o);
    if (mo->json) {
      nlohmann::json j{{"device", device_json(*dev)},
                       {"shape", {{"type", mo->type}, {"m", o.m}, {"k", o.k}, {"n", o.n}, {"act", mo->act}}},
                       {"matmul", bench::to_json(r)}};
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("%s %s m=%u k=%u n=%u act=%s variant=%s (%s)\n", dev->caps().name.c_str(), mo->type.c_str(), o.m, o.k,
                  o.n, mo->act.c_str(), r.variant.c_str(), r.config.c_str());
      std::printf("  check: max_rel_err %.3g (tolerance %.1g, %u rows) %s\n", r.max_rel_err, r.tolerance, r.checked_rows,
                  r.passed() ? "ok" : "FAILED");
      std::printf("  time: %.2f us median (min %.2f, %d runs, %d weight copies rotated)\n", r.median_us, r.min_us, r.runs,
                  r.copies);
      std::printf("  %.1f GB/s (%.1f%% of copy %.1f GB/s), %.3f TFLOP/s\n", r.gbps, r.pct_of_copy, r.copy_gbps, r.tflops);
    }
    cli.result = r.passed() ? 0 : 1;
  });

  add_bench_model_command(cli, bench);
}

}  // namespace vkq::cli
