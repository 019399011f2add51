#!/usr/bin/env bash
# Device calls of the session of 2026-12-07 (2): (1) `persist`: what a
# persistent decode kernel could reach with perfect memory-bound ops
# (`h100_kernels.sh persist`: tg128's Q4_0 and Q8_0 layers x 32 in one
# dispatch with a grid-wide wait between ops, against barriers, at 2-16
# workgroups per SM and 0-8 loads of the next op issued before each
# wait); (2) `norm`: where the decode GEMVs with one workgroup per SM
# (attn_output and down: 128 workgroups of 32 rows) lose: tg128 by removal
# (`--ablate`) with the defaults, and with those two GEMVs at 1024
# invocations per workgroup and/or 4 weight loads in flight per invocation
# (`--norm-wg`, `--norm-loads`). Call 3's `groups` mode (decode attention
# in row groups, VKQ_DECODE_GROUPS) is in this script at `9e3f1a3`; the
# row groups were reverted (`bbeecba`). Each model run appends to
# $out/ab.jsonl (`summary` prints them). Builds nothing: carry .device
# (benchmarks/bundle.sh) and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_persist.sh [persist|norm|all|summary]
set -uo pipefail
mode=${1:-all}
case "$mode" in persist | all) timeout 200 bash .device/h100_kernels.sh persist ;; esac
[ "$mode" = persist ] && exit 0
. .device/device_env.sh
. .device/decode_ab.sh "$mode"
case "$mode" in norm | all)
  tg128 "q4_0 defaults, by removal" - q4_0 --ablate
  tg128 "q4_0 --norm-wg 1024, by removal" - q4_0 --ablate --norm-wg 1024
  tg128 "q4_0 --norm-loads 4, by removal" - q4_0 --ablate --norm-loads 4
  tg128 "q4_0 --norm-wg 1024 --norm-loads 4, by removal" - q4_0 --ablate --norm-wg 1024 --norm-loads 4
  tg128 "q4_0 defaults (2)" - q4_0 ;;
esac
ab_summary
