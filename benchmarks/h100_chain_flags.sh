#!/usr/bin/env bash
# Decode's dispatch-chain links, in one device call: the links alone
# against barriers (`h100_kernels.sh chain-link`: `vkq bench chain
# --linked` over tg128's Q4_0 layer x 32 with 128, 384 and 1056
# workgroups per dispatch; the acquire as a load after the polls or as the
# control barrier; early loads), then tg128 Q4_0 and Q8_0 with the chain
# off and on (since 2a727f1 with the unchained step's 16 attention splits,
# which call 2 of 2026-12-07 asked for with --attention-splits 16),
# interleaved, twice, and (Q4_0) unchained with the chain kernels' shape
# (256 x 4, x staged in shared memory) (every chained run checks its logits against the
# unchained step: `bench model` exits 1 if they differ), and with
# .device/vkq_prev (another build) chained too when it is carried. Each
# model run appends to $out/ab.jsonl; summary:
# bash .device/h100_chain_flags.sh summary.
# Builds nothing: carry .device (benchmarks/bundle.sh) and .gl
# (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_chain_flags.sh [full|model|summary]
set -uo pipefail
mode=${1:-full}
[ "$mode" = full ] && timeout 200 bash .device/h100_kernels.sh chain-link
. .device/device_env.sh
. .device/decode_ab.sh "$mode"
ab_tests "Vulkan forward: decode as one dispatch chain*" 120
for round in 1 2; do
  for t in q4_0 q8_0; do
    tg128 "chain off $t ($round)" - $t --chain off
    tg128 "chain on $t ($round)" - $t --chain on
    # The chain kernels' shape without the links: 256 invocations, x staged.
    [ $t = q4_0 ] && tg128 "chain off, 256 x 4 staged $t ($round)" - $t --chain off --block-wg 256 --block-loads 4 --block-stage
    if [ -x .device/vkq_prev ]; then
      vkq=.device/vkq_prev tg128 "previous build, chain on $t ($round)" - $t --chain on
    fi
  done
done
ab_summary
