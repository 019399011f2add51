#!/usr/bin/env bash
# How the host waits for each submit (DeviceOptions::fence_wait): polling
# the fence (the default on GPUs) against blocking in vkWaitForFences
# (VKQ_FENCE_WAIT=block), tg128 for Q4_0 and Q8_0 and pp512 for Q4_0, each
# way, three rounds interleaved; `bench chain`'s empty submit both ways.
# First the device test of the two modes when the test binary is carried.
# Builds nothing: carry .device (benchmarks/bundle.sh) and .gl
# (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_host_wait.sh
set -uo pipefail
. .device/device_env.sh
. .device/decode_ab.sh
ab_tests "the host waits for a submit*" 60
for round in 1 2 3; do
  for t in q4_0 q8_0; do
    ab_run "poll $t tg128 ($round)" - --type $t --prompt 0 --gen 128 --reps 3 --no-breakdown
    ab_run "block $t tg128 ($round)" VKQ_FENCE_WAIT=block --type $t --prompt 0 --gen 128 --reps 3 --no-breakdown
  done
done
ab_run "poll q4_0 pp512" - --type q4_0 --prompt 512 --gen 0 --reps 3 --no-breakdown
ab_run "block q4_0 pp512" VKQ_FENCE_WAIT=block --type q4_0 --prompt 512 --gen 0 --reps 3 --no-breakdown
ab_summary
for m in poll block; do
  echo "empty submit, $m: $(VKQ_FENCE_WAIT=$m $vkq bench chain --sizes 0 --layers 1 --runs 50 --json 2>&1 |
    python3 -c 'import json,sys; c=json.load(sys.stdin)["chain"]; print("%.1f us (a chain of one empty dispatch: %.1f us)" % (c["submit_us"], c["median_us"]))')"
done
