#include "calib_vulkan.hpp"

#include <algorithm>
#include <stdexcept>

#include "buffer.hpp"
#include "command_stream.hpp"
#include "error.hpp"
#include "gpu_weights.hpp"

namespace vkq::quant {
namespace {

constexpr uint64_t kChunkBytes = 64ull << 20;  // activations per binding and transfer
constexpr size_t kWindowsPerSubmit = 16;

Buffer upload(Device& dev, std::span<const float> v) {
  Buffer b(dev, std::max<size_t>(v.size(), 1) * 4);
  if (!v.empty()) b.upload(v.data(), v.size_bytes());
  return b;
}

}  // namespace

VulkanCalibBatch::VulkanCalibBatch(Device& device, const LlamaHParams& hp,
                                   const std::vector<std::vector<int32_t>>& windows, unsigned threads)
    : CalibBatch(hp, windows, threads),
      device_(device),
      rmsnorm_(std::make_unique<ops::RmsNorm>(device)),
      matmul_(std::make_unique<ops::Matmul>(device, GgmlType::F32, ops::ActType::f32)),
      rope_kv_(std::make_unique<ops::RopeKv>(device, ops::KvType::f32)),
      attention_(std::make_unique<ops::Attention>(device, ops::KvType::f32)),
      swiglu_(std::make_unique<ops::Swiglu>(device)) {}

VulkanCalibBatch::~VulkanCalibBatch() = default;

std::string VulkanCalibBatch::device_name() const { return device_.caps().name; }

size_t VulkanCalibBatch::chunk_tokens(uint64_t floats_per_token) const {
  const uint64_t limit = std::min<uint64_t>(kChunkBytes, device_.caps().max_storage_buffer_range);
  return std::max<size_t>(1, std::min<uint64_t>(tokens(), limit / (std::max<uint64_t>(floats_per_token, 1) * 4)));
}

std::vector<float> VulkanCalibBatch::rmsnorm(std::span<const float> x, std::span<const float> weight) const {
  const size_t T = tokens(), w = weight.size();
  if (x.size() != T * w) throw std::invalid_argument("VulkanCalibBatch::rmsnorm: x is not [T][width]");
  std::vector<float> out(x.size());
  const Buffer bw = upload(device_, weight);
  const size_t C = chunk_tokens(w);
  Buffer bx(device_, C * w * 4), by(device_, C * w * 4);
  for (size_t t0 = 0; t0 < T; t0 += C) {
    const size_t n = std::min(C, T - t0);
    bx.upload(x.data() + t0 * w, n * w * 4);
    CommandStream cs(device_, 0);
    rmsnorm_->record(cs, bx, bw, by, {uint32_t(n), uint32_t(w), hp_.rms_norm_eps});
    cs.submit_and_wait();
    by.download(out.data() + t0 * w, n * w * 4);
  }
  return out;
}

std::vector<float> VulkanCalibBatch::linear(const TensorView& w, std::span<const float> x) const {
  const size_t T = tokens();
  if (x.size() != T * w.cols) throw std::invalid_argument("VulkanCalibBatch::linear: x is not [T][cols]");
  std::vector<float> wf;
  const void* rows = w.data;
  if (w.type != GgmlType::F32) {
    wf = w.to_floats();
    rows = wf.data();
  }
  const GpuMatrix gm(device_, GgmlType::F32, rows, uint32_t(w.rows), uint32_t(w.cols));
  std::vector<float> y(T * w.rows);
  const size_t C = chunk_tokens(std::max(w.rows, w.cols));
  Buffer bx(device_, C * w.cols * 4), by(device_, C * w.rows * 4);
  for (size_t t0 = 0; t0 < T; t0 += C) {
    const size_t n = std::min(C, T - t0);
    bx.upload(x.data() + t0 * w.cols, n * w.cols * 4);
    CommandStream cs(device_, 0);
    matmul_->record(cs, gm, bx, by, uint32_t(n));
    cs.submit_and_wait();
    by.download(y.data() + t0 * w.rows, n * w.rows * 4);
  }
  return y;
}

std::vector<float> VulkanCalibBatch::attention(std::vector<float> q, std::vector<float> k, std::span<const float> v,
                                               std::span<const float> rope_freqs) const {
  const uint32_t dim = hp_.embedding_length, kv = hp_.kv_dim(), L = seq_len_;
  const uint32_t stride = dim + 2 * kv;
  if (q.size() != tokens() * dim || k.size() != tokens() * kv || v.size() != tokens() * kv)
    throw std::invalid_argument("VulkanCalibBatch::attention: q, k, v are not [T][dim], [T][kv_dim], [T][kv_dim]");
  const ops::RopeShape rope{hp_.head_count, hp_.head_count_kv, hp_.head_dim(), hp_.rope_dimension_count,
                            hp_.rope_freq_base, uint32_t(rope_freqs.size())};
  Buffer step(device_, 16, MemoryKind::host);
  step.fill(0);  // every window starts at position 0
  const Buffer freq = upload(device_, rope_freqs);
  // One set of buffers per window of a submit: the window's q | k | v rows,
  // its KV cache (L rows), its output.
  const size_t G = std::min<size_t>(kWindowsPerSubmit, n_windows_);
  struct Slot {
    Buffer qkv, kc, vc, out;
  };
  std::vector<Slot> slots;
  for (size_t i = 0; i < G; ++i)
    slots.push_back({Buffer(device_, uint64_t(L) * stride * 4), Buffer(device_, uint64_t(L) * kv * 4),
                     Buffer(device_, uint64_t(L) * kv * 4), Buffer(device_, uint64_t(L) * dim * 4)});
  std::vector<float> out(tokens() * dim), rows(size_t(L) * stride);
  for (size_t w0 = 0; w0 < n_windows_; w0 += G) {
    const size_t g = std::min(G, n_windows_ - w0);
    CommandStream cs(device_, 0);
    for (size_t i = 0; i < g; ++i) {
      const size_t base = (w0 + i) * L;
      for (uint32_t t = 0; t < L; ++t) {
        std::copy_n(q.data() + (base + t) * dim, dim, rows.data() + size_t(t) * stride);
        std::copy_n(k.data() + (base + t) * kv, kv, rows.data() + size_t(t) * stride + dim);
        std::copy_n(v.data() + (base + t) * kv, kv, rows.data() + size_t(t) * stride + dim + kv);
      }
      slots[i].qkv.upload(rows.data(), rows.size() * 4);
      rope_kv_->record(cs, slots[i].qkv, step, freq, slots[i].kc, slots[i].vc, L, stride, L, rope);
    }
    cs.barrier();
    for (size_t i = 0; i < g; ++i)
      attention_->record(cs, slots[i].qkv, step, slots[i].kc, slots[i].vc, slots[i].out, L, stride, dim, L,
                         hp_.head_count, hp_.head_count_kv, hp_.head_dim());
    cs.submit_and_wait();
    for (size_t i = 0; i < g; ++i) slots[i].out.download(out.data() + (w0 + i) * L * dim, size_t(L) * dim * 4);
  }
  return out;
}

std::vector<float> VulkanCalibBatch::swiglu(std::span<const float> gate, std::span<const float> up) const {
  const size_t T = tokens(), w = gate.size() / std::max<size_t>(T, 1);
  if (gate.size() != T * w || up.size() != gate.size())
    throw std::invalid_argument("VulkanCalibBatch::swiglu: gate and up are not [T][hidden]");
  std::vector<float> out(gate.size());
  const size_t C = chunk_tokens(2 * w);
  // gate rows then up rows in one buffer: up at token t is t * w + C * w.
  Buffer bin(device_, 2 * C * w * 4), bout(device_, C * w * 4);
  for (size_t t0 = 0; t0 < T; t0 += C) {
    const size_t n = std::min(C, T - t0);
    bin.upload(gate.data() + t0 * w, n * w * 4);
    bin.upload(up.data() + t0 * w, n * w * 4, C * w * 4);
    CommandStream cs(device_, 0);
    swiglu_->record(cs, bin, bout, uint32_t(n), uint32_t(w), uint32_t(w), uint32_t(C * w), uint32_t(w));
    cs.submit_and_wait();
    bout.download(out.data() + t0 * w, n * w * 4);
  }
  return out;
}

}  // namespace vkq::quant
