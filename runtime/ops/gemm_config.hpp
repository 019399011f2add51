// Tile sizes of the prefill GEMM kernels (shaders/matmul_tiled.comp and
// shaders/matmul_coopmat.comp), derived from the device's limits after
// VKQ_DEVICE_PROFILE: shared memory per workgroup, invocations per
// workgroup, subgroup sizes. Pure functions of DeviceCaps and the shape, so
// they are tested without a GPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "device_caps.hpp"

namespace vkq::ops {

// Overrides for benchmarks (`vkq bench matmul --gemm-wg --tile-m --tile-n
// --gemm-bk --gemm-bufs`);
// 0 = derive from the device.
struct GemmTuning {
  uint32_t wg = 0;  // invocations per workgroup
  uint32_t bm = 0;  // weight rows per workgroup tile
  uint32_t bn = 0;  // activation columns per workgroup tile
  uint32_t bk = 0;  // coopmat: K per step, a multiple of 32 (0 = 64 where it divides K, else 32)
  uint32_t nbuf = 0;  // coopmat: shared-memory buffers per operand, 1 or 2 (0 = 1 for steps over 32, else 2)
  // coopmat / cm2 tile order (shaders/common/gemm_tile.glsl;
  // VKQ_GEMM_ORDER=rows|cols): kAuto (coopmat: columns first, cm2: rows
  // first, as measured on the H100), kRowsFirst (successive workgroups take
  // the row tiles of a column block), kColsFirst (the column tiles of a row
  // block: each weight tile read from memory once).
  enum Order : uint32_t { kAuto = 0, kRowsFirst = 1, kColsFirst = 2 };
  uint32_t order = kAuto;
};

// matmul_tiled.comp: a BM x BN tile per workgroup, TM x TN outputs per
// invocation, fp32 shared tiles of 32 x (BM + PAD) and 32 x (BN + PAD).
struct TiledGemmConfig {
  uint32_t wg = 0, bm = 0, bn = 0, tm = 0, tn = 0, pad = 0;
  uint32_t shared_bytes() const { return 4 * 32 * (bm + pad + bn + pad); }
  std::vector<uint32_t> spec_constants() const { return {wg, bm, bn, tm, tn, pad}; }
  std::string describe() const;
};
// For n activation columns: the largest tile whose columns do not exceed n
// rounded up to a power of two (16 .. 128: a 128-column tile would do 14
// times the work at n = 9) and whose workgroup and shared memory fit, padded
// where the padding fits too (128 x 128 with 48 KiB, unpadded with 32 KiB;
// 64 x 64 unpadded with 16 KiB and 256 invocations).
// Throws DeviceError if none fits, InputError if `tuning` names a tile that
// does not exist or does not fit.
TiledGemmConfig tiled_gemm_config(const DeviceCaps& caps, uint32_t n, const GemmTuning& tuning = {});

// matmul_coopmat.comp: a BM x BN tile per workgroup split into subgroup
// tiles of WM x WN (multiples of the 16 x 16 fragment); NBUF fp16 shared
// buffers per operand of BK = 32 KB deep rows (plus 8 halves of padding)
// and a 16 x 16 fp32 staging area per subgroup.
struct CoopmatGemmConfig {
  uint32_t wg = 0, bm = 0, bn = 0, wm = 0, wn = 0;
  uint32_t wt_max = 0;    // subgroup tiles per subgroup with the largest subgroup size
  uint32_t nsub_max = 0;  // subgroups per workgroup with the smallest subgroup size
  uint32_t kb = 2;        // quant blocks (32 of K) per step
  uint32_t nbuf = 1;      // shared-memory buffers per operand
  bool cols_first = false;  // tile order (GemmTuning::order resolved)
  uint32_t shared_bytes() const { return nbuf * (bm + bn) * (64 * kb + 16) + nsub_max * 1024; }
  std::vector<uint32_t> spec_constants() const {
    return {wg, bm, bn, wm, wn, wt_max, nsub_max, kb, nbuf, cols_first ? 1u : 0u};
  }
  std::string describe() const;
};
// Tall tiles (256 x 128) from this many workgroups of them up.
inline constexpr uint64_t kTallTileMinGroups = 224;
// For an M x K weight and n columns: 256 invocations (8 subgroups of 32 on
// NVIDIA) and 128 x 128 tiles, the H100's best (benchmarks/RESULTS.md), or
// 256 x 128 tiles 32 deep where at least kTallTileMinGroups of them cover
// the output (gate/up's prefill GEMM), with
// fewer columns for n <= 64 and fewer rows while the grid has under 64
// workgroups, then shrunk until the shared memory fits. Steps 64 deep in one
// buffer per operand, or 32 deep in two where 64 does not divide kp (the
// padded K, a multiple of 32; 0 = any), unless `tuning` asks otherwise; a
// requested step is cut to the largest that divides kp.
CoopmatGemmConfig coopmat_gemm_config(const DeviceCaps& caps, uint32_t M, uint32_t n, const GemmTuning& tuning = {},
                                      uint32_t kp = 0);

// matmul_cm2.comp (VK_NV_cooperative_matrix2): a BM x BN tile per workgroup
// of one of the driver's workgroup-scope sizes, BK of K per step; the
// driver stages the tiles in its own shared memory.
struct Cm2GemmConfig {
  uint32_t wg = 0, bm = 0, bn = 0, bk = 0;
  bool cols_first = false;  // tile order (GemmTuning::order resolved)
  std::vector<uint32_t> spec_constants() const { return {wg, bm, bn, bk, cols_first ? 1u : 0u}; }
  std::string describe() const;
};
// For an M x K weight and n columns: 128 x 128 tiles (fewer columns for n
// <= 64, fewer rows while the grid has under 64 workgroups), 64 of K per
// step, and the largest workgroup size up to 256 (else the smallest) whose
// listed shape's granularities divide the tile, unless `tuning` asks
// otherwise (InputError for a size with no such shape, or tiles that are
// not multiples of 16 up to 256).
Cm2GemmConfig cm2_gemm_config(const DeviceCaps& caps, uint32_t M, uint32_t n, const GemmTuning& tuning = {});

}  // namespace vkq::ops
