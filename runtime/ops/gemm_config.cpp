#include "ops/gemm_config.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "error.hpp"

namespace vkq::ops {
namespace {

uint32_t ceil_div(uint32_t a, uint32_t b) { return (a + b - 1) / b; }

uint32_t max_invocations(const DeviceCaps& caps) {
  return std::min(caps.max_workgroup_invocations, caps.max_workgroup_size[0]);
}

bool pow2(uint32_t v) { return v && !(v & (v - 1)); }

}  // namespace

std::string TiledGemmConfig::describe() const {
  return fmt::format("tile {}x{}, {}x{} per invocation, {} invocations, {} B shared", bm, bn, tm, tn, wg,
                     shared_bytes());
}

std::string CoopmatGemmConfig::describe() const {
  return fmt::format("tile {}x{}, subgroup tile {}x{}, {} invocations, K {} per step x {} buffer{}, {} B shared", bm, bn,
                     wm, wn, wg, 32 * kb, nbuf, nbuf > 1 ? "s" : "", shared_bytes());
}

std::string Cm2GemmConfig::describe() const {
  return fmt::format("tile {}x{}, K {} per step, {} invocations (workgroup-scope matrices)", bm, bn, bk, wg);
}

TiledGemmConfig tiled_gemm_config(const DeviceCaps& caps, uint32_t n, const GemmTuning& tuning) {
  // Largest first: more outputs per invocation means fewer shared-memory
  // reads per FMA ((TM + TN) / (TM TN)).
  struct Tile {
    uint32_t bm, bn, tm, tn;
  };
  static constexpr Tile kTiles[] = {{128, 128, 8, 8}, {128, 64, 8, 4}, {64, 64, 4, 4}, {128, 32, 8, 4},
                                    {64, 32, 4, 4},   {128, 16, 8, 2}, {32, 32, 4, 4}, {64, 16, 4, 2},
                                    {32, 16, 4, 4},   {16, 16, 4, 4}};
  const uint32_t limit = max_invocations(caps);
  uint32_t max_bn = 16;
  while (max_bn < std::min<uint32_t>(n, 128)) max_bn *= 2;
  for (const auto& t : kTiles) {
    TiledGemmConfig c{(t.bm / t.tm) * (t.bn / t.tn), t.bm, t.bn, t.tm, t.tn, 1};
    if ((tuning.bm && tuning.bm != c.bm) || (tuning.bn && tuning.bn != c.bn) || (tuning.wg && tuning.wg != c.wg))
      continue;
    if (c.wg > limit || (!tuning.bn && c.bn > max_bn)) continue;
    // Padding keeps the transposing stores conflict-free; drop it where it is
    // the difference between fitting and not (64 x 64 in 16 KiB).
    for (uint32_t pad : {1u, 0u}) {
      c.pad = pad;
      if (c.shared_bytes() <= caps.max_shared_memory) return c;
    }
  }
  std::string tiles;
  for (const auto& t : kTiles) tiles += fmt::format("{}{}x{} ({} inv.)", tiles.empty() ? "" : ", ", t.bm, t.bn, (t.bm / t.tm) * (t.bn / t.tn));
  if (tuning.bm || tuning.bn || tuning.wg)
    throw InputError(fmt::format("tiled GEMM: no tile matches --tile-m {} --tile-n {} --gemm-wg {} within the limits "
                                 "of '{}' ({} B shared memory, {} invocations)",
                                 tuning.bm, tuning.bn, tuning.wg, caps.name, caps.max_shared_memory, limit),
                     "tiles: " + tiles);
  throw DeviceError(fmt::format("device '{}': no tiled GEMM tile fits {} B of shared memory and {} invocations",
                                caps.name, caps.max_shared_memory, limit));
}

CoopmatGemmConfig coopmat_gemm_config(const DeviceCaps& caps, uint32_t M, uint32_t n, const GemmTuning& tuning,
                                      uint32_t kp) {
  const uint32_t sg = std::max<uint32_t>(caps.subgroup_size, 1);
  // The pipeline may run with any size in [min, max] unless the profile
  // forces one.
  const uint32_t sg_min = caps.smallest_subgroup(), sg_max = caps.largest_subgroup();
  const uint32_t limit = max_invocations(caps);

  CoopmatGemmConfig c;
  // Columns first unless asked: on the H100 (benchmarks/RESULTS.md, session
  // of 2026-12-06 (3), call 7) pp512 Q4_0 +2.5-3.0%, Q8_0 -0.3%; at n = 512
  // QKV's GEMM 139.1 -> 145.3 TFLOP/s, gate/up 135.0 -> 139.4, down 133.9
  // -> 136.6, attn_output 141.1 -> 138.6.
  c.cols_first = tuning.order != GemmTuning::kRowsFirst;
  if (tuning.bk && (tuning.bk % 32 || tuning.bk > 256))
    throw InputError(fmt::format("cooperative-matrix GEMM: K per step {} is not a multiple of 32 up to 256", tuning.bk));
  if (tuning.nbuf > 2) throw InputError(fmt::format("cooperative-matrix GEMM: {} buffers per operand (1 or 2)", tuning.nbuf));
  // Default: 64 of K per step in one buffer per operand (two blocks per
  // barrier pair), which measured 23-37% faster than 32 in two buffers for
  // the block types on the H200 at n = 512 and takes less shared memory per
  // tile (benchmarks/RESULTS.md, call 22); 32 in two buffers where 64 does
  // not divide the padded K.
  c.kb = tuning.bk ? tuning.bk / 32 : 2;
  while (kp && c.kb > 1 && (kp / 32) % c.kb) --c.kb;
  c.nbuf = tuning.nbuf ? tuning.nbuf : c.kb > 1 ? 1 : 2;
  // 256 invocations (8 subgroups of 32) with 128 x 128 tiles measured
  // fastest on the H100 at n = 512 (benchmarks/RESULTS.md); fewer where the
  // device allows fewer.
  c.wg = tuning.wg ? tuning.wg : std::max<uint32_t>(std::min<uint32_t>(256, limit), sg_max);
  if (!pow2(c.wg) || c.wg % sg_max || c.wg > limit)
    throw InputError(fmt::format("cooperative-matrix GEMM on '{}': {} invocations per workgroup is not a power of two, "
                                 "a multiple of the subgroup size ({}) and at most {}",
                                 caps.name, c.wg, sg_max, limit));
  for (uint32_t v : {tuning.bm, tuning.bn})
    if (v && (!pow2(v) || v < 16 || v > 256))
      throw InputError(fmt::format("cooperative-matrix GEMM: tile size {} is not a power of two in 16..256", v));

  c.bn = tuning.bn ? tuning.bn : n <= 32 ? 32 : n <= 64 ? 64 : 128;
  c.bm = tuning.bm ? tuning.bm : 128;
  if (!tuning.bm)
    // Smaller tiles only when the grid would not even cover the SMs of a
    // large GPU: big tiles reuse each loaded weight for more columns.
    while (c.bm > 32 && uint64_t(ceil_div(M, c.bm)) * ceil_div(n, c.bn) < 64) c.bm /= 2;

  auto split = [&] {
    // Subgroup grid gm x gn = the subgroups at the usual size (or fewer
    // where the tile is too small), subgroup tiles as square as possible.
    const uint32_t nsub = c.wg / sg;
    uint32_t gm = 1, gn = 1;
    while (gm * gn < nsub) {
      if (c.bm / gm >= c.bn / gn && c.bm / (2 * gm) >= 16) gm *= 2;
      else if (c.bn / (2 * gn) >= 16) gn *= 2;
      else if (c.bm / (2 * gm) >= 16) gm *= 2;
      else break;
    }
    c.wm = c.bm / gm;
    c.wn = c.bn / gn;
    c.wt_max = ceil_div(gm * gn, std::max<uint32_t>(1, c.wg / sg_max));
    c.nsub_max = c.wg / sg_min;
  };
  split();
  // Tall tiles where enough of them cover the output: 256 x 128, 32 deep
  // in one buffer (8 subgroups of 64 x 64). On the H100 at n = 512
  // (benchmarks/RESULTS.md, session of 2026-12-06), TFLOP/s against the
  // 128 x 128 default: 22016 x 4096 (344 tall tiles) 133.6 / 123.3, 14336
  // x 4096 (224) 131.3 / 123.2, 12288 x 4096 (192) 112.1 / 139.9, 4096 x
  // 11008 (64) 76.5 / 135.4.
  if (!tuning.wg && !tuning.bm && !tuning.bn && !tuning.bk && !tuning.nbuf && c.bm == 128 && c.bn == 128 &&
      uint64_t(ceil_div(M, 256)) * ceil_div(n, c.bn) >= kTallTileMinGroups) {
    const CoopmatGemmConfig before = c;
    c.bm = 256;
    c.kb = 1;
    c.nbuf = 1;
    split();
    if (c.shared_bytes() > caps.max_shared_memory) c = before;
  }
  // Shrink until the shared memory fits: tiles down to 32 x 32, then fewer
  // invocations (less staging), then tiles down to 16 x 16.
  while (c.shared_bytes() > caps.max_shared_memory) {
    const bool bn_free = !tuning.bn, bm_free = !tuning.bm;
    if (bn_free && c.bn >= c.bm && c.bn > 32) c.bn /= 2;
    else if (bm_free && c.bm > 32) c.bm /= 2;
    else if (bn_free && c.bn > 32) c.bn /= 2;
    else if (!tuning.wg && c.wg > sg_max) c.wg /= 2;
    else if (bn_free && c.bn > 16) c.bn /= 2;
    else if (bm_free && c.bm > 16) c.bm /= 2;
    else if (tuning.bm || tuning.bn || tuning.wg)
      throw InputError(fmt::format("cooperative-matrix GEMM: a {}x{} tile with {} invocations needs {} B of shared "
                                   "memory, '{}' has {}",
                                   c.bm, c.bn, c.wg, c.shared_bytes(), caps.name, caps.max_shared_memory));
    else
      throw DeviceError(fmt::format("device '{}': no cooperative-matrix GEMM tile fits {} B of shared memory",
                                    caps.name, caps.max_shared_memory));
    split();
  }
  return c;
}

Cm2GemmConfig cm2_gemm_config(const DeviceCaps& caps, uint32_t M, uint32_t n, const GemmTuning& tuning) {
  const auto shapes = coopmat2_workgroup_shapes(caps, "f16", "f32");
  if (shapes.empty())
    throw DeviceError(fmt::format("device '{}' lists no workgroup-scope fp16 cooperative-matrix shape", caps.name));
  for (uint32_t v : {tuning.bm, tuning.bn, tuning.bk})
    if (v && (v % 16 || v > 256))
      throw InputError(fmt::format("cooperative-matrix-2 GEMM: tile size {} is not a multiple of 16 up to 256", v));
  Cm2GemmConfig c;
  // Rows first unless asked: columns first measured 0-7% slower for it on
  // the H100 (call 7 as above; F16 pp512 unchanged).
  c.cols_first = tuning.order == GemmTuning::kColsFirst;
  // 64 of K per step: +22-28% over 32 at QKV's shape on the H100
  // (benchmarks/RESULTS.md, session of 2026-12-06 (3)).
  c.bk = tuning.bk ? tuning.bk : 64;
  c.bn = tuning.bn ? tuning.bn : n <= 16 ? 16 : n <= 32 ? 32 : n <= 64 ? 64 : 128;
  c.bm = tuning.bm ? tuning.bm : 128;
  if (!tuning.bm)
    while (c.bm > 32 && uint64_t(ceil_div(M, c.bm)) * ceil_div(n, c.bn) < 64) c.bm /= 2;
  // The workgroup size: one whose listed shape's granularities divide the
  // tile; the largest up to 256 (else the smallest) unless asked.
  std::vector<uint32_t> sizes;
  for (const auto& s : shapes)
    if (c.bm % s.m == 0 && c.bn % s.n == 0 && c.bk % s.k == 0) sizes.push_back(s.invocations);
  std::sort(sizes.begin(), sizes.end());
  if (tuning.wg) {
    if (std::find(sizes.begin(), sizes.end(), tuning.wg) == sizes.end())
      throw InputError(fmt::format("cooperative-matrix-2 GEMM on '{}': {} invocations have no fp16 workgroup-scope "
                                   "shape for a {}x{} tile {} deep (sizes that do: {})",
                                   caps.name, tuning.wg, c.bm, c.bn, c.bk, fmt::join(sizes, ", ")));
    c.wg = tuning.wg;
    return c;
  }
  if (sizes.empty())
    throw InputError(fmt::format("cooperative-matrix-2 GEMM on '{}': no fp16 workgroup-scope shape divides a {}x{} "
                                 "tile {} deep", caps.name, c.bm, c.bn, c.bk));
  c.wg = sizes.front();
  for (uint32_t s : sizes)
    if (s <= 256) c.wg = s;
  return c;
}

}  // namespace vkq::ops
