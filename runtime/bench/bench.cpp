#include "bench/bench.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "buffer.hpp"
#include "common/push_constants.h"
#include "kernel.hpp"
#include "variant_select.hpp"
#include "command_stream.hpp"
#include "error.hpp"
#include "gpu_weights.hpp"
#include "ops/llama_ops.hpp"
#include "quant_blocks.hpp"

namespace vkq::bench {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// GPUs idle at low clocks and boost under load: run `record` until at least
// 300 ms of wall time has passed, so timed runs see steady clocks.
void warm_up(Device& device, const std::function<void(CommandStream&)>& record) {
  const auto start = std::chrono::steady_clock::now();
  CommandStream cs(device, 0);
  int reps = 1;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300)) {
    for (int i = 0; i < reps; ++i) {
      record(cs);
      cs.barrier();
    }
    cs.submit_and_wait();
    reps = std::min(reps * 2, 256);
  }
}

void require_timestamps(const Device& d) {
  if (!d.caps().timestamps)
    throw DeviceError(fmt::format("device '{}' has no timestamp queries on its compute queue", d.caps().name));
}

}  // namespace

CopyResult bench_copy(Device& device, uint64_t bytes, int runs) {
  require_timestamps(device);
  const auto& caps = device.caps();
  if (bytes == 0) {
    // Large enough to defeat caches (H100 L2 is 50 MB), small enough for any device.
    bytes = std::min<uint64_t>(1ull << 30, caps.max_memory_allocation_size);
    if (caps.device_local_bytes()) bytes = std::min<uint64_t>(bytes, caps.device_local_bytes() / 8);
  }
  // The shader binds the whole buffer: stay under maxStorageBufferRange.
  bytes = std::min<uint64_t>(bytes, caps.max_storage_buffer_range);
  bytes = std::max<uint64_t>(bytes & ~uint64_t(255), 1 << 20);
  Buffer a(device, bytes), b(device, bytes);
  a.fill(0x3f800000u);
  b.fill(0);
  const uint32_t wg = pick_workgroup_size(caps, 256);
  const Kernel& k = device.kernel({"copy_buffer", {wg}, sizeof(pc::Elementwise)});
  const uint32_t n = static_cast<uint32_t>(bytes / 16);
  const uint32_t groups = std::min<uint32_t>((n + wg - 1) / wg, std::min<uint32_t>(caps.max_workgroup_count[0], 65535));
  const pc::Elementwise p{n};
  CopyResult r;
  r.bytes = bytes;
  r.runs = runs;
  std::vector<double> shader_us, transfer_us;
  warm_up(device, [&](CommandStream& cs) { cs.dispatch(k, {a, b}, p, {groups, 1, 1}); });
  CommandStream cs(device, static_cast<uint32_t>(2 * runs + 8));
  cs.mark("start");
  for (int i = 0; i < runs; ++i) {
    cs.dispatch(k, {i % 2 ? b : a, i % 2 ? a : b}, p, {groups, 1, 1});
    cs.barrier();
    cs.mark("shader");
    cs.copy(i % 2 ? b : a, i % 2 ? a : b, bytes);
    cs.barrier();
    cs.mark("transfer");
  }
  cs.submit_and_wait();
  for (const auto& s : cs.spans()) (s.label == "shader" ? shader_us : transfer_us).push_back(s.ms * 1e3);
  r.shader_us = median(shader_us);
  r.transfer_us = median(transfer_us);
  auto gbps = [&](double us) { return us > 0 ? 2.0 * double(bytes) / (us * 1e-6) / 1e9 : 0.0; };
  r.shader_gbps = gbps(r.shader_us);
  r.transfer_gbps = gbps(r.transfer_us);
  // The bandwidth a kernel can reach: the faster of the two copies.
  r.median_us = r.shader_us > 0 && (r.transfer_us == 0 || r.shader_us < r.transfer_us) ? r.shader_us : r.transfer_us;
  r.gbps = gbps(r.median_us);
  return r;
}

MatmulResult bench_matmul(Device& device, const MatmulOptions& o) {
  require_timestamps(device);
  if (o.m == 0 || o.k == 0 || o.n == 0) throw InputError("bench matmul: m, k and n must be positive");
  if (!ggml_row_bytes(o.type, o.k))
    throw InputError(fmt::format("bench matmul: k = {} is not a multiple of {}'s block size", o.k, ggml_type_name(o.type)));
  MatmulResult r;
  r.copy_gbps = o.copy_gbps > 0 ? o.copy_gbps : bench_copy(device, o.copy_bytes).gbps;

  // Random weights (normal, like trained ones), quantized as a file holds them.
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> nd(0.0f, 1.0f / std::sqrt(float(o.k)));
  const uint64_t row_bytes = *ggml_row_bytes(o.type, o.k);
  std::vector<uint8_t> wfile(row_bytes * o.m);
  {
    std::vector<float> row(o.k);
    for (uint32_t i = 0; i < o.m; ++i) {
      for (auto& v : row) v = nd(rng);
      quantize_row(o.type, row.data(), wfile.data() + i * row_bytes, o.k);
    }
  }
  std::uniform_real_distribution<float> ud(-1.0f, 1.0f);
  std::vector<float> x(uint64_t(o.n) * o.k);
  for (auto& v : x) v = ud(rng);
  const std::vector<uint8_t> xbytes = ops::activation_bytes(x, o.act);

  // Several copies of the weights, rotated between runs.
  std::vector<GpuMatrix> copies;
  copies.emplace_back(device, o.type, wfile.data(), o.m, o.k);
  r.weight_bytes = copies[0].gpu_bytes();
  const int ncopies = static_cast<int>(std::clamp<uint64_t>((o.rotate_bytes + r.weight_bytes - 1) / r.weight_bytes, 1, 64));
  while (static_cast<int>(copies.size()) < ncopies) copies.emplace_back(device, o.type, wfile.data(), o.m, o.k);
  r.copies = ncopies;
  Buffer bx(device, xbytes.size()), by(device, uint64_t(o.n) * o.m * 4);
  bx.upload(xbytes.data(), xbytes.size());
  by.fill(0x7fc00bad);  // NaN: unwritten outputs fail the check

  ops::Matmul mm(device, o.type, o.act, o.variant, o.tuning);
  r.variant = mm.variant_for(o.n);
  r.config = mm.config_for(o.m, o.k, o.n);

  // Correctness first: GPU result against the fp64 CPU reference on a sample
  // of rows (all rows when small).
  {
    CommandStream cs(device);
    mm.record(cs, copies[0], bx, by, o.n);
    cs.submit_and_wait();
    std::vector<float> y(uint64_t(o.n) * o.m);
    by.download(std::span<float>(y));
    std::vector<uint32_t> rows;
    const uint64_t work = uint64_t(o.m) * o.k * o.n;
    if (work <= (64ull << 20)) {
      for (uint32_t i = 0; i < o.m; ++i) rows.push_back(i);
    } else {
      const uint32_t want = std::max<uint32_t>(16, static_cast<uint32_t>((64ull << 20) / (uint64_t(o.k) * o.n)));
      for (uint32_t i = 0; i < std::min(want, o.m); ++i) rows.push_back(static_cast<uint32_t>(uint64_t(i) * o.m / std::min(want, o.m)));
      rows.push_back(o.m - 1);
    }
    double max_err = 0, max_ref = 0;
    std::vector<float> ref(o.n);
    for (uint32_t i : rows) {
      ops::matmul_ref(o.type, wfile.data() + i * row_bytes, 1, o.k, x.data(), o.n, o.k, ref.data());
      for (uint32_t j = 0; j < o.n; ++j) {
        const double g = y[uint64_t(j) * o.m + i];
        max_err = std::max(max_err, std::isnan(g) ? INFINITY : std::fabs(g - ref[j]));
        max_ref = std::max(max_ref, std::fabs(double(ref[j])));
      }
    }
    r.checked_rows = static_cast<uint32_t>(rows.size());
    r.max_rel_err = max_ref > 0 ? max_err / max_ref : max_err;
    // fp32 accumulation against an fp64 reference on the same dequantized
    // weights; fp16 tensor-core paths round weights and activations to fp16.
    // Integer-dot variants also round activations to 8 bits per 32-block.
    r.tolerance = ops::gemm_rounds_to_fp16(r.variant) ? 5e-3
                  : r.variant.find("_idot") != std::string::npos ? 1e-2
                                                                  : 1e-4;
  }

  // Timing: warm-up, then `runs` timed runs with a barrier between them.
  int w = 0;
  warm_up(device, [&](CommandStream& c) { mm.record(c, copies[w++ % ncopies], bx, by, o.n); });
  CommandStream cs(device, static_cast<uint32_t>(o.runs + 8));
  cs.mark("start");
  for (int i = 0; i < o.runs; ++i) {
    mm.record(cs, copies[(i + 3) % ncopies], bx, by, o.n);
    cs.barrier();
    cs.mark("run");
  }
  cs.submit_and_wait();
  std::vector<double> us;
  for (const auto& s : cs.spans())
    if (s.label == "run") us.push_back(s.ms * 1e3);
  r.runs = o.runs;
  r.median_us = median(us);
  r.min_us = us.empty() ? 0 : *std::min_element(us.begin(), us.end());
  const double bytes = double(r.weight_bytes) + double(xbytes.size());  // weights + activations, as llama.cpp counts
  if (r.median_us > 0) {
    r.gbps = bytes / (r.median_us * 1e-6) / 1e9;
    r.tflops = 2.0 * o.m * double(o.k) * o.n / (r.median_us * 1e-6) / 1e12;
    r.pct_of_copy = r.copy_gbps > 0 ? 100.0 * r.gbps / r.copy_gbps : 0;
  }
  return r;
}

ChainResult bench_chain(Device& device, const ChainOptions& o) {
  require_timestamps(device);
  if (o.bytes.empty() || o.layers == 0) throw InputError("bench chain: give at least one size and one layer");
  const auto& caps = device.caps();
  const uint32_t wg = pick_workgroup_size(caps, o.wg);
  // Each dispatch reads its own range, never reused in a chain (as a decode
  // step reads each weight once), packed into buffers of at most `chunk`.
  const uint64_t align = std::max<uint64_t>(caps.min_storage_buffer_offset_alignment, 256);
  const uint64_t chunk = std::min<uint64_t>({1ull << 30, caps.max_storage_buffer_range, caps.max_memory_allocation_size}) & ~(align - 1);
  struct Range {
    uint32_t buf;
    uint64_t offset, bytes;
  };
  std::vector<Range> ranges;
  std::vector<uint64_t> buf_sizes{0};
  for (uint32_t l = 0; l < o.layers; ++l)
    for (uint64_t b : o.bytes) {
      const uint64_t len = std::max<uint64_t>(b & ~uint64_t(15), 16);
      if (len > chunk)
        throw InputError(fmt::format("bench chain: {} bytes in one dispatch is above the largest buffer '{}' binds ({} bytes)",
                                     b, caps.name, chunk));
      if (buf_sizes.back() + len > chunk) buf_sizes.push_back(0);
      ranges.push_back({static_cast<uint32_t>(buf_sizes.size() - 1), buf_sizes.back(), b & ~uint64_t(15)});
      buf_sizes.back() = (buf_sizes.back() + len + align - 1) & ~(align - 1);
    }
  const uint32_t max_groups = std::min<uint32_t>(caps.max_workgroup_count[0], 65535);
  if (o.linked) {
    if (!o.barriers) throw InputError("bench chain: --linked replaces the barriers; it cannot go with --no-barriers");
    if (o.replicas == 0 || o.spacing == 0 || uint64_t(o.replicas) * o.spacing * 4 > kChainFlagBytes)
      throw InputError(fmt::format("bench chain: {} replicas x {} words per flag: each at least 1, at most {} words",
                                   o.replicas, o.spacing, kChainFlagBytes / 4));
  }
  constexpr uint32_t kPersistBuffers = 8, kMaxPrefetch = 8;
  if (o.persistent) {
    if (o.linked || !o.barriers)
      throw InputError("bench chain: --persistent is one dispatch; it cannot go with --linked or --no-barriers");
    if (o.groups == 0)
      throw InputError("bench chain: --persistent needs --groups (workgroups that are all resident at once)");
    if (buf_sizes.size() > kPersistBuffers)
      throw InputError(fmt::format("bench chain: --persistent reads at most {} buffers of {} bytes; this chain needs {}",
                                   kPersistBuffers, chunk, buf_sizes.size()));
  }
  if (o.prefetch > kMaxPrefetch || (o.prefetch && !o.persistent))
    throw InputError(fmt::format("bench chain: --prefetch goes with --persistent, at most {} loads", kMaxPrefetch));
  if (o.groups > max_groups)
    throw InputError(fmt::format("bench chain: {} workgroups per dispatch is above the device's {}", o.groups, max_groups));
  ChainResult r;
  r.copy_gbps = o.copy_gbps > 0 ? o.copy_gbps : bench_copy(device, o.copy_bytes).gbps;
  std::vector<Buffer> bufs;
  bufs.reserve(buf_sizes.size());
  // Random bits by default: memory that compresses (a constant fill) may
  // read faster than the bandwidth of incompressible weights.
  {
    const ops::FillRandom fill(device);
    CommandStream cs(device);
    uint32_t seed = 1;
    for (uint64_t sz : buf_sizes) {
      bufs.emplace_back(device, std::min(sz, chunk));
      if (o.constant_fill) bufs.back().fill(0x01010101u);
      else fill.record(cs, bufs.back(), bufs.back().size() / 4, seed++, ops::FillRandom::Mode::bits, 1.0f);
    }
    cs.submit_and_wait();
  }
  Buffer sink(device, 256);
  sink.fill(0);
  const Kernel& plain = device.kernel({"read_stream", {wg}, sizeof(pc::Elementwise)});
  const Kernel& k = o.linked ? device.kernel({"read_stream_chain", {wg, o.replicas, o.spacing, o.backoff, o.early ? 1u : 0u, o.acquire_load ? 1u : 0u},
                                              sizeof(pc::ReadChain)})
                             : plain;
  Buffer flags(device, o.linked ? ranges.size() * kChainFlagBytes : o.persistent ? (ranges.size() + 1) * 128 : 256);
  // --persistent: each entry's (buffer, first uvec4, count), and the kernel.
  Buffer stages;
  const Kernel* persist = nullptr;
  if (o.persistent) {
    std::vector<uint32_t> tab;
    for (const auto& rg : ranges)
      tab.insert(tab.end(), {rg.buf, static_cast<uint32_t>(rg.offset / 16), static_cast<uint32_t>(rg.bytes / 16), 0u});
    stages = Buffer(device, tab.size() * 4);
    stages.upload(std::span<const uint32_t>(tab));
    persist = &device.kernel({"read_persist", {wg, o.prefetch}, sizeof(pc::ReadPersist)});
  }
  auto record = [&](CommandStream& cs, bool mark_each) {
    if (o.persistent) {
      cs.begin_chain(flags);  // zeroes the counters, then a barrier
      std::vector<Binding> b;
      for (uint32_t i = 0; i < kPersistBuffers; ++i) b.emplace_back(bufs[i < bufs.size() ? i : 0]);
      b.insert(b.end(), {Binding(stages), Binding(flags), Binding(sink)});
      // About a second of polls before a wait gives up (read_persist.comp).
      cs.dispatch_with(*persist, b, pc::ReadPersist{static_cast<uint32_t>(ranges.size()), 1u << 21}, {o.groups, 1, 1});
      cs.barrier();
      if (mark_each) cs.mark("op");
      return;
    }
    if (o.linked) cs.begin_chain(flags);
    for (const auto& rg : ranges) {
      const uint32_t n = static_cast<uint32_t>(rg.bytes / 16);
      const uint32_t groups = !n ? 1 : o.groups ? o.groups : std::min<uint32_t>((n + wg - 1) / wg, max_groups);
      const Binding src(bufs[rg.buf], rg.offset, std::max<uint64_t>(rg.bytes, 16));
      if (o.linked) {
        pc::ReadChain p{n, 0, 0, 0};
        std::vector<Binding> b{src, sink};
        cs.link(p, b, groups);
        cs.dispatch_with(k, b, p, {groups, 1, 1});
      } else {
        cs.dispatch(k, {src, sink}, pc::Elementwise{n}, {groups, 1, 1});
      }
      if (o.barriers) cs.barrier();  // dropped by the next link in a chain
      if (mark_each) cs.mark("op");  // after the barrier: the span ends when this dispatch is done
    }
  };
  r.dispatches = static_cast<uint32_t>(ranges.size());
  for (const auto& rg : ranges) r.bytes += rg.bytes;
  warm_up(device, [&](CommandStream& cs) { record(cs, false); });
  // One chain per submit (a decode step is one submit), timed on the host
  // from submit to fence, less the same for a submit of one empty dispatch:
  // on the H200 a timestamp after the chain's last dispatch was written
  // before the chain could have read its bytes (faster than the memory
  // allows), so the timestamps' span is reported but not used.
  auto submit_us = [](CommandStream& cs) {
    const auto t0 = std::chrono::steady_clock::now();
    cs.submit_and_wait();
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  };
  std::vector<double> chain_us, stamp_us, empty_us;
  for (int i = 0; i < o.runs; ++i) {
    CommandStream empty(device, 1);
    empty.dispatch(plain, {Binding(bufs[0], 0, 16), sink}, pc::Elementwise{0}, {1, 1, 1});
    empty_us.push_back(submit_us(empty));
    CommandStream cs(device, 4);
    cs.mark("start");
    record(cs, false);
    r.links = cs.barriers_elided();  // linked: the dispatches that waited on a flag (all but the first)
    cs.mark("chain");
    chain_us.push_back(submit_us(cs));
    for (const auto& s : cs.spans()) stamp_us.push_back(s.ms * 1e3);
    if (o.persistent) {
      uint32_t aborted = 0;
      flags.download(std::span<uint32_t>(&aborted, 1));
      if (aborted)
        throw DeviceError(fmt::format("bench chain --persistent: a grid-wide wait gave up on device '{}': the {} "
                                      "workgroups were not all resident at once (try fewer --groups or a smaller --wg)",
                                      caps.name, o.groups));
    }
  }
  std::vector<std::vector<double>> per_entry(o.bytes.size());
  if (!o.persistent) {  // one dispatch: no span per entry
    CommandStream cs(device, r.dispatches + 4);
    cs.mark("start");
    record(cs, true);
    cs.submit_and_wait();
    for (size_t i = 0; i < cs.spans().size(); ++i) per_entry[i % o.bytes.size()].push_back(cs.spans()[i].ms * 1e3);
  }
  r.runs = o.runs;
  r.submit_us = median(empty_us);
  r.median_us = std::max(0.0, median(chain_us) - r.submit_us);
  r.timestamp_us = median(stamp_us);
  r.us_per_dispatch = r.median_us / r.dispatches;
  r.roofline_us = r.copy_gbps > 0 ? double(r.bytes) / (r.copy_gbps * 1e3) : 0;
  r.roofline_share = r.median_us > 0 ? r.roofline_us / r.median_us : 0;
  for (auto& v : per_entry)
    if (!v.empty()) r.entry_us.push_back(median(v));
  return r;
}

nlohmann::json to_json(const CopyResult& r) {
  return {{"bytes", r.bytes},          {"median_us", r.median_us},         {"gbps", r.gbps},
          {"shader_gbps", r.shader_gbps}, {"transfer_gbps", r.transfer_gbps}, {"runs", r.runs}};
}

nlohmann::json to_json(const ChainResult& r) {
  return {{"dispatches", r.dispatches}, {"links", r.links},  {"bytes", r.bytes},         {"median_us", r.median_us},
          {"us_per_dispatch", r.us_per_dispatch}, {"copy_gbps", r.copy_gbps}, {"roofline_us", r.roofline_us},
          {"roofline_share", r.roofline_share},   {"entry_us", r.entry_us},   {"runs", r.runs},
          {"submit_us", r.submit_us},             {"timestamp_us", r.timestamp_us}};
}

nlohmann::json to_json(const MatmulResult& r) {
  return {{"variant", r.variant},       {"config", r.config},           {"max_rel_err", r.max_rel_err}, {"tolerance", r.tolerance},
          {"passed", r.passed()},       {"checked_rows", r.checked_rows}, {"median_us", r.median_us},
          {"min_us", r.min_us},         {"gbps", r.gbps},               {"tflops", r.tflops},
          {"copy_gbps", r.copy_gbps},   {"pct_of_copy", r.pct_of_copy}, {"weight_bytes", r.weight_bytes},
          {"weight_copies", r.copies},  {"runs", r.runs}};
}

}  // namespace vkq::bench
