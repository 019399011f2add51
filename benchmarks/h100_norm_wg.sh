#!/usr/bin/env bash
# One device call: the residual GEMVs with the norm epilogue (attn_output,
# down) at 1024 invocations (`--norm-wg 1024`) against the default 512,
# tg128 Q4_0 and Q8_0 interleaved in three rounds (call 4 of 2026-12-07 (2)
# measured Q4_0 +1.2% and Q8_0 -1.0% in one round each). Builds nothing:
# carry .device (benchmarks/bundle.sh) and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_norm_wg.sh [full|summary]
set -uo pipefail
. .device/device_env.sh
. .device/decode_ab.sh "${1:-full}"
for round in 1 2 3; do
  for t in q4_0 q8_0; do
    tg128 "$t default ($round)" - $t
    tg128 "$t --norm-wg 1024 ($round)" - $t --norm-wg 1024
  done
done
ab_summary
