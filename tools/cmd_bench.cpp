// vkq bench copy|matmul: device bandwidth and dequant-matmul kernels, timed
// with GPU timestamps (median of many runs). `bench model` comes with the
// forward pass.
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/bench.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "instance.hpp"

namespace vkq::cli {
namespace {

nlohmann::json device_json(const Device& d) {
  const auto& c = d.caps();
  return {{"name", c.name}, {"driver", c.driver_name}, {"driver_info", c.driver_info},
          {"driver_version", c.driver_version_str}, {"api_version", c.api_version_str}, {"profile", c.profile},
          {"device_uuid", c.device_uuid}};
}

std::unique_ptr<Device> open_for_bench(const Instance& inst, const std::string& spec) {
  if (spec == "cpu") throw InputError("bench measures Vulkan devices; 'cpu' has nothing to time", "devices: " + inst.describe_devices());
  return open_device(inst, spec);
}

}  // namespace

void add_bench_command(Cli& cli) {
  auto* bench = cli.app.add_subcommand("bench", "Benchmarks: copy bandwidth, matmul kernels");
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

  struct MatmulOpts {
    std::string device, type = "q4_0", act = "f32", variant;
    uint32_t m = 4096, k = 4096, n = 1, wg = 0, rows = 0, unroll = 0, gemm_wg = 0, tile_m = 0, tile_n = 0;
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
    o.tuning = {mo->wg, mo->rows, mo->unroll, {mo->gemm_wg, mo->tile_m, mo->tile_n}};
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
}

}  // namespace vkq::cli
