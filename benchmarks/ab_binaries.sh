#!/usr/bin/env bash
# Two vkq builds against each other in one device call: .device/vkq_prev
# (copy the previous bundle's .device/vkq there before bundling the new
# one) and .device/vkq. tg128 for Q4_0 and Q8_0, three rounds interleaved,
# then decode by removal (--ablate, Q4_0) with each; pp512 Q4_0 once each.
# Builds nothing: carry .device (benchmarks/bundle.sh) and .gl
# (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/ab_binaries.sh
set -uo pipefail
. .device/device_env.sh
. .device/decode_ab.sh
[ -x .device/vkq_prev ] || { echo "ab_binaries: .device/vkq_prev missing"; exit 1; }
for round in 1 2 3; do for t in q4_0 q8_0; do
  vkq=.device/vkq_prev ab_run "prev $t tg128 ($round)" - --type $t --prompt 0 --gen 128 --reps 3 --no-breakdown
  vkq=.device/vkq ab_run "new $t tg128 ($round)" - --type $t --prompt 0 --gen 128 --reps 3 --no-breakdown
done; done
vkq=.device/vkq_prev ab_run "prev q4_0 ablate" - --type q4_0 --prompt 0 --gen 128 --reps 3 --no-breakdown --ablate
vkq=.device/vkq ab_run "new q4_0 ablate" - --type q4_0 --prompt 0 --gen 128 --reps 3 --no-breakdown --ablate
vkq=.device/vkq_prev ab_run "prev q4_0 pp512" - --type q4_0 --prompt 512 --gen 0 --reps 3 --no-breakdown
vkq=.device/vkq ab_run "new q4_0 pp512" - --type q4_0 --prompt 512 --gen 0 --reps 3 --no-breakdown
ab_summary
