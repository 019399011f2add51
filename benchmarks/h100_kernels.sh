#!/usr/bin/env bash
# The kernel table of the dequant-matmul issue, in one device call. Builds
# nothing: takes the bundle from benchmarks/bundle.sh (carried as .device)
# and the Vulkan loader from ../shared/device/prepare.sh (carried as .gl).
# Usage on the device machine, from the repo root:
#   bash .device/h100_kernels.sh [table|tune|gemm|quick]
# Writes logs and JSON under $OUT (or ./bench-out).
set -uo pipefail
mode=${1:-table}
shift || true
. .device/device_env.sh
$vkq devices > "$out/devices.txt" 2>&1
$vkq devices --json > "$out/devices.json" 2>&1
cat "$out/devices.txt"
$vkq bench copy --json > "$out/copy.json" 2>&1
$vkq bench copy
row() {  # row TYPE M K N [extra args]: one `vkq bench matmul` run, JSON appended to matmul.jsonl
  local t=$1 m=$2 k=$3 n=$4; shift 4
  $vkq bench matmul --type "$t" --m "$m" --k "$k" --n "$n" --runs 50 --json "$@" >> "$out/matmul.jsonl" 2>>"$out/errors.log" ||
    echo "FAILED: $t m=$m k=$k n=$n $*: $(tail -2 "$out/errors.log")"
}
case "$mode" in
  quick)
    row q4_0 4096 14336 1; row q8_0 4096 14336 1 ;;
  tune)  # GEMV workgroup size x rows per workgroup, at (4096, 14336), n = 1
    for t in q4_0 q8_0; do
      for wg in 32 64 128; do for r in 1 2 4; do for u in 1 2 4; do
        row $t 4096 14336 1 --wg $wg --rows $r --unroll $u "$@"; done; done; done
    done ;;
  tune-k4096)  # GEMV on short rows (k = 4096): workgroup size x rows per workgroup
    for t in q4_0 q8_0; do for mk in "128256 4096" "4096 4096"; do
      for wg in 32 64 128; do for r in 1 2 4; do row $t $mk 1 --wg $wg --rows $r "$@"; done; done
    done; done ;;
  gemm)  # cooperative-matrix GEMM: workgroup size x tile, n = 512 (and the tiled kernel once)
    for mk in "4096 14336" "4096 4096" "14336 4096"; do
      row q4_0 $mk 512 "$@"
      for wg in 128 256; do for tm in 64 128; do for tn in 64 128; do
        row q4_0 $mk 512 --gemm-wg $wg --tile-m $tm --tile-n $tn "$@"; done; done; done
    done
    for t in q8_0 f16 q4_1; do row $t 4096 14336 512 "$@"; done
    row q4_0 4096 14336 512 --act f16 "$@"
    for n in 16 64 128; do row q4_0 4096 14336 $n "$@"; done
    row q4_0 4096 14336 512 --variant matmul_q4_0_f32_tiled "$@" ;;
  table)
    # Decode GEMV targets: n = 1 at the four shapes, Q4_0 and Q8_0.
    for t in q4_0 q8_0; do
      for mk in "4096 4096" "14336 4096" "4096 14336" "128256 4096"; do row $t $mk 1; done
    done
    # Other types, the fp32-dequantizing variant, and a tiny shape that shows
    # the fixed cost of one call (dispatches + barrier + timestamps).
    row q4_1 4096 14336 1; row f16 4096 14336 1
    row q4_0 4096 14336 1 --variant matvec_q4_0_f32_subgroup
    row q4_0 128 4096 1
    for n in 2 4 8; do row q4_0 4096 14336 $n; done
    # Prefill GEMM, n = 512.
    for mk in "4096 4096" "14336 4096" "4096 14336"; do row q4_0 $mk 512; done
    for t in q8_0 f16; do row $t 4096 14336 512; done
    row q4_0 4096 14336 512 --variant matmul_q4_0_f32_tiled ;;
esac
python3 .device/summarize.py "$out/matmul.jsonl" | tee "$out/table.md"
