#!/usr/bin/env bash
# One device call (session of 2026-12-07 (2)): (1) what a persistent decode
# kernel could reach with perfect memory-bound ops (`h100_kernels.sh
# persist`: tg128's Q4_0 and Q8_0 layers x 32 in one dispatch with a
# grid-wide wait between ops, against barriers, at 2-16 workgroups per SM
# and 0-8 loads of the next op issued before each wait); (2) where the
# decode GEMVs with one workgroup per SM (attn_output and down: 128
# workgroups of 32 rows) lose: tg128 by removal (`--ablate`) with the
# defaults, and with those two GEMVs at 1024 invocations per workgroup
# and/or 4 weight loads in flight per invocation (`--norm-wg`,
# `--norm-loads`), and every block GEMV at 1024. Builds nothing: carry .device (benchmarks/bundle.sh)
# and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_persist.sh [full|model|summary]
set -uo pipefail
mode=${1:-full}
[ "$mode" = full ] && timeout 240 bash .device/h100_kernels.sh persist
. .device/device_env.sh
. .device/decode_ab.sh "$mode"
tg128 "q4_0 defaults, by removal" - q4_0 --ablate
tg128 "q4_0 --norm-wg 1024, by removal" - q4_0 --ablate --norm-wg 1024
tg128 "q4_0 --norm-loads 4, by removal" - q4_0 --ablate --norm-loads 4
tg128 "q4_0 --norm-wg 1024 --norm-loads 4, by removal" - q4_0 --ablate --norm-wg 1024 --norm-loads 4
tg128 "q4_0 --block-wg 1024, by removal" - q4_0 --ablate --block-wg 1024
tg128 "q4_0 defaults (2)" - q4_0
for t in q8_0; do
  tg128 "$t defaults" - $t
  tg128 "$t --norm-wg 1024" - $t --norm-wg 1024
  tg128 "$t --norm-loads 4" - $t --norm-loads 4
  tg128 "$t defaults (2)" - $t
done
ab_summary
