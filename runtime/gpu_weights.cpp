#include "gpu_weights.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "error.hpp"

namespace vkq {

uint32_t padded_k(uint32_t K) { return (K + 31) / 32 * 32; }

bool is_block_type(GgmlType t) { return t == GgmlType::Q4_0 || t == GgmlType::Q4_1 || t == GgmlType::Q8_0; }

uint64_t quant_row_bytes(GgmlType t, uint32_t K) {
  const uint64_t kp = padded_k(K);
  switch (t) {
    case GgmlType::F32: return kp * 4;
    case GgmlType::F16:
    case GgmlType::BF16: return kp * 2;
    case GgmlType::Q8_0: return kp;
    case GgmlType::Q4_0:
    case GgmlType::Q4_1: return kp / 2;
    default: throw InputError(fmt::format("{}: not supported yet", ggml_type_name(t)));
  }
}

uint64_t scale_row_bytes(GgmlType t, uint32_t K) {
  const uint64_t blocks = padded_k(K) / 32;
  switch (t) {
    case GgmlType::Q8_0:
    case GgmlType::Q4_0: return blocks * 2;
    case GgmlType::Q4_1: return blocks * 4;
    default: return 0;
  }
}

namespace {

uint64_t file_row_bytes(GgmlType t, uint32_t K) {
  const auto b = ggml_row_bytes(t, K);
  if (!b)
    throw InputError(fmt::format("{} rows of {} weights are not whole 32-weight blocks", ggml_type_name(t), K));
  return *b;
}

uint64_t padded4(uint64_t n) { return (n + 3) / 4 * 4; }

}  // namespace

RepackedRows repack_rows(GgmlType t, const uint8_t* src, uint32_t rows, uint32_t K) {
  const uint64_t frow = file_row_bytes(t, K), qrow = quant_row_bytes(t, K), srow = scale_row_bytes(t, K);
  RepackedRows out;
  out.quants.assign(rows * qrow, 0);
  out.scales.assign(padded4(rows * srow), 0);
  const uint32_t nb = K / 32;
  for (uint32_t r = 0; r < rows; ++r) {
    const uint8_t* in = src + r * frow;
    uint8_t* q = out.quants.data() + r * qrow;
    uint8_t* s = out.scales.data() + r * srow;
    switch (t) {
      case GgmlType::F32:
      case GgmlType::F16:
      case GgmlType::BF16: std::memcpy(q, in, frow); break;  // padding stays zero
      case GgmlType::Q4_0:
        for (uint32_t b = 0; b < nb; ++b) {
          std::memcpy(s + b * 2, in + b * 18, 2);
          std::memcpy(q + b * 16, in + b * 18 + 2, 16);
        }
        break;
      case GgmlType::Q4_1:
        for (uint32_t b = 0; b < nb; ++b) {
          std::memcpy(s + b * 4, in + b * 20, 4);  // d then m: d | m << 16 little-endian
          std::memcpy(q + b * 16, in + b * 20 + 4, 16);
        }
        break;
      case GgmlType::Q8_0:
        for (uint32_t b = 0; b < nb; ++b) {
          std::memcpy(s + b * 2, in + b * 34, 2);
          std::memcpy(q + b * 32, in + b * 34 + 2, 32);
        }
        break;
      default: throw InputError(fmt::format("{}: not supported yet", ggml_type_name(t)));
    }
  }
  return out;
}

std::vector<uint8_t> unpack_rows(GgmlType t, const RepackedRows& rp, uint32_t rows, uint32_t K) {
  const uint64_t frow = file_row_bytes(t, K), qrow = quant_row_bytes(t, K), srow = scale_row_bytes(t, K);
  if (rp.quants.size() < rows * qrow || rp.scales.size() < rows * srow) throw InputError("unpack_rows: planes too small");
  std::vector<uint8_t> out(rows * frow);
  const uint32_t nb = K / 32;
  for (uint32_t r = 0; r < rows; ++r) {
    uint8_t* o = out.data() + r * frow;
    const uint8_t* q = rp.quants.data() + r * qrow;
    const uint8_t* s = rp.scales.data() + r * srow;
    switch (t) {
      case GgmlType::F32:
      case GgmlType::F16:
      case GgmlType::BF16: std::memcpy(o, q, frow); break;
      case GgmlType::Q4_0:
        for (uint32_t b = 0; b < nb; ++b) {
          std::memcpy(o + b * 18, s + b * 2, 2);
          std::memcpy(o + b * 18 + 2, q + b * 16, 16);
        }
        break;
      case GgmlType::Q4_1:
        for (uint32_t b = 0; b < nb; ++b) {
          std::memcpy(o + b * 20, s + b * 4, 4);
          std::memcpy(o + b * 20 + 4, q + b * 16, 16);
        }
        break;
      case GgmlType::Q8_0:
        for (uint32_t b = 0; b < nb; ++b) {
          std::memcpy(o + b * 34, s + b * 2, 2);
          std::memcpy(o + b * 34 + 2, q + b * 32, 32);
        }
        break;
      default: throw InputError(fmt::format("{}: not supported yet", ggml_type_name(t)));
    }
  }
  return out;
}

uint64_t max_plane_bytes(const DeviceCaps& caps) {
  return std::min(caps.max_storage_buffer_range, caps.max_memory_allocation_size);
}

std::vector<ChunkPlan> plan_chunks(GgmlType t, uint32_t M, uint32_t K, uint64_t max_plane) {
  if (M == 0 || K == 0) throw InputError("weight matrix with an empty dimension");
  file_row_bytes(t, K);  // refuses rows that are not whole blocks
  const uint64_t qrow = quant_row_bytes(t, K), srow = scale_row_bytes(t, K);
  const uint64_t widest = std::max(qrow, srow);
  if (widest + 3 > max_plane)
    throw DeviceError(fmt::format("one weight row of {} bytes exceeds the {}-byte buffer limit", widest, max_plane));
  const uint32_t rows_per_chunk = static_cast<uint32_t>(std::min<uint64_t>(M, (max_plane - 3) / widest));
  std::vector<ChunkPlan> out;
  for (uint32_t r0 = 0; r0 < M; r0 += rows_per_chunk) {
    const uint32_t rows = std::min(rows_per_chunk, M - r0);
    out.push_back({r0, rows, rows * qrow, srow ? padded4(rows * srow) : 0});
  }
  return out;
}

GpuMatrix GpuMatrix::allocate(Device& device, GgmlType t, uint32_t M, uint32_t K, uint64_t max_plane) {
  if (max_plane == 0) max_plane = max_plane_bytes(device.caps());
  GpuMatrix m(t, M, K);
  for (const auto& p : plan_chunks(t, M, K, max_plane)) {
    Chunk c;
    c.row0 = p.row0;
    c.rows = p.rows;
    c.quants = Buffer(device, p.quant_bytes);
    if (p.scale_bytes) c.scales = Buffer(device, p.scale_bytes);
    m.chunks_.push_back(std::move(c));
  }
  return m;
}

GpuMatrix::GpuMatrix(Device& device, GgmlType t, const void* file_rows, uint32_t M, uint32_t K, uint64_t max_plane)
    : type_(t), M_(M), K_(K) {
  if (max_plane == 0) max_plane = max_plane_bytes(device.caps());
  std::vector<ChunkPlan> plan;
  try {
    plan = plan_chunks(t, M, K, max_plane);
  } catch (const DeviceError& e) {
    throw DeviceError(fmt::format("device '{}': {}", device.caps().name, e.what()));
  }
  const uint64_t frow = file_row_bytes(t, K);
  const auto* src = static_cast<const uint8_t*>(file_rows);
  for (const auto& p : plan) {
    auto rp = repack_rows(t, src + uint64_t(p.row0) * frow, p.rows, K);
    Chunk c;
    c.row0 = p.row0;
    c.rows = p.rows;
    c.quants = Buffer(device, rp.quants.size());
    c.quants.upload(rp.quants.data(), rp.quants.size());
    if (!rp.scales.empty()) {
      c.scales = Buffer(device, rp.scales.size());
      c.scales.upload(rp.scales.data(), rp.scales.size());
    }
    chunks_.push_back(std::move(c));
  }
}

uint64_t GpuMatrix::gpu_bytes() const {
  uint64_t b = 0;
  for (const auto& c : chunks_) b += c.quants.size() + (c.scales ? c.scales.size() : 0);
  return b;
}

uint64_t GpuMatrix::file_bytes() const { return uint64_t(M_) * file_row_bytes(type_, K_); }

std::vector<uint8_t> GpuMatrix::download_file_layout() const {
  std::vector<uint8_t> out;
  out.reserve(file_bytes());
  for (const auto& c : chunks_) {
    RepackedRows rp;
    rp.quants.resize(c.quants.size());
    c.quants.download(rp.quants.data(), rp.quants.size());
    if (c.scales) {
      rp.scales.resize(c.scales.size());
      c.scales.download(rp.scales.data(), rp.scales.size());
    }
    const auto rows = unpack_rows(type_, rp, c.rows, K_);
    out.insert(out.end(), rows.begin(), rows.end());
  }
  return out;
}

}  // namespace vkq
