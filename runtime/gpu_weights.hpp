// GPU-native layout of a weight matrix W[M][K] (M output rows of K weights,
// GGUF ne = {K, M}), and its upload.
//
// The file layout interleaves scales and quants in each block; kernels want
// wide aligned loads of each. At upload the rows are repacked into two
// planes (see shaders/common/weights.glsl for the shader side):
//   quant plane  row r is Kp weights (K rounded up to 32, zero padded):
//                F32 4 B, F16/BF16 2 B, Q8_0 1 B (int8), Q4_0/Q4_1 4 bits
//                (16 bytes per 32-weight block, nibbles exactly as in GGUF),
//                so every row starts 16-byte aligned;
//   scale plane  one entry per 32-weight block, row-major: fp16 d (Q8_0,
//                Q4_0), or fp16 d | fp16 m << 16 as one uint32 (Q4_1);
//                padded to a multiple of 4 bytes.
// Rows are split into chunks so that no plane exceeds maxStorageBufferRange
// or maxMemoryAllocationSize (128 MiB on lavapipe and many phones); kernels
// run once per chunk.
//
// repack_rows / unpack_rows are pure functions and inverses of each other
// (tested round-trip): unpack_rows(repack_rows(x)) == x byte for byte.
#pragma once

#include <cstdint>
#include <vector>

#include "buffer.hpp"
#include "ggml_types.hpp"

namespace vkq {

struct RepackedRows {
  std::vector<uint8_t> quants;  // rows * quant_row_bytes(t, K)
  std::vector<uint8_t> scales;  // rows * Kp / 32 entries (block types), padded to 4 bytes
};

uint32_t padded_k(uint32_t K);                        // K rounded up to 32
uint64_t quant_row_bytes(GgmlType t, uint32_t K);     // bytes of one row in the quant plane
uint64_t scale_row_bytes(GgmlType t, uint32_t K);     // bytes of one row in the scale plane (0 for plain types)
bool is_block_type(GgmlType t);

// `file_rows` holds `rows` rows in GGUF layout (ggml_row_bytes(t, K) each).
RepackedRows repack_rows(GgmlType t, const uint8_t* file_rows, uint32_t rows, uint32_t K);
std::vector<uint8_t> unpack_rows(GgmlType t, const RepackedRows& r, uint32_t rows, uint32_t K);

// How an M x K matrix of type t is split into chunks on a device whose
// planes may hold at most max_plane bytes: the sizes GpuMatrix allocates
// (the fit model reads them without a device).
struct ChunkPlan {
  uint32_t row0 = 0, rows = 0;
  uint64_t quant_bytes = 0, scale_bytes = 0;  // scale_bytes 0 for plain types
};
std::vector<ChunkPlan> plan_chunks(GgmlType t, uint32_t M, uint32_t K, uint64_t max_plane);
// The largest plane a device allows: min(maxStorageBufferRange, maxMemoryAllocationSize).
uint64_t max_plane_bytes(const DeviceCaps& caps);

class GpuMatrix {
 public:
  struct Chunk {
    uint32_t row0 = 0, rows = 0;
    Buffer quants;
    Buffer scales;  // empty for plain types
  };

  GpuMatrix() = default;  // empty: no rows (moved-into later)
  // Planes allocated and not filled (synthetic weights are written by a kernel).
  static GpuMatrix allocate(Device& device, GgmlType t, uint32_t M, uint32_t K, uint64_t max_plane_bytes = 0);

  // Repacks and uploads. `max_plane_bytes` (0 = from the device caps) caps
  // each plane of a chunk.
  GpuMatrix(Device& device, GgmlType t, const void* file_rows, uint32_t M, uint32_t K, uint64_t max_plane_bytes = 0);

  GgmlType type() const { return type_; }
  uint32_t rows() const { return M_; }
  uint32_t cols() const { return K_; }
  const std::vector<Chunk>& chunks() const { return chunks_; }
  uint64_t gpu_bytes() const;   // quant + scale plane bytes on the device
  uint64_t file_bytes() const;  // bytes of the same rows in GGUF layout

  // Downloads and inverts the repack: the GGUF-layout rows (for tests).
  std::vector<uint8_t> download_file_layout() const;

 private:
  GpuMatrix(GgmlType t, uint32_t M, uint32_t K) : type_(t), M_(M), K_(K) {}

  GgmlType type_ = GgmlType::F32;
  uint32_t M_ = 0, K_ = 0;
  std::vector<Chunk> chunks_;
};

}  // namespace vkq
