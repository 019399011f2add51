#!/usr/bin/env bash
# Decode's FFN in one dispatch (ops::FfnTail, matvec_idot_block.comp EPI_FFN)
# against gate/up and down as two GEMVs (VKQ_FUSED_FFN=off), in one device
# call, most wanted first: the FFN's op and forward-pass tests on the GPU
# when the test binary is carried (.device/vkq_tests), then tg128 Q4_0 and
# Q8_0 with 1, 2 and 4 blocks of h per workgroup (VKQ_FFN_BLOCKS), with
# down's first loads early (VKQ_FFN_EARLY=1) and as the two GEMVs,
# interleaved, twice; then (full) --ablate for Q4_0 both ways and
# pp512 + tg128 for both types (the model table) and the forward pass's
# logits against the CPU reference on the GPU. Each run appends to
# $out/ab.jsonl, so a call cut short keeps what ran; the summary:
# bash .device/h100_ffn.sh summary.
# Builds nothing: carry .device (benchmarks/bundle.sh, stories260K's .bin
# files in .device/models for the tests) and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_ffn.sh [quick|full|summary]
set -uo pipefail
mode=${1:-full}
. .device/device_env.sh
. .device/decode_ab.sh "$mode"
ab_tests "[ffn]" 120
for round in 1 2; do
  for t in q4_0 q8_0; do
    tg128 "two GEMVs $t tg128 ($round)" VKQ_FUSED_FFN=off $t
    tg128 "one dispatch nb1 $t tg128 ($round)" "VKQ_FUSED_FFN=on VKQ_FFN_BLOCKS=1" $t
    tg128 "one dispatch nb2 $t tg128 ($round)" "VKQ_FUSED_FFN=on VKQ_FFN_BLOCKS=2" $t
    tg128 "one dispatch nb4 $t tg128 ($round)" "VKQ_FUSED_FFN=on VKQ_FFN_BLOCKS=4" $t
    tg128 "one dispatch nb1 early $t tg128 ($round)" "VKQ_FUSED_FFN=on VKQ_FFN_EARLY=1" $t
  done
done
if [ "$mode" = full ]; then
  tg128 "one dispatch q4_0 tg128 ablate" VKQ_FUSED_FFN=on q4_0 --ablate
  tg128 "two GEMVs q4_0 tg128 ablate" VKQ_FUSED_FFN=off q4_0 --ablate
  for t in q4_0 q8_0; do
    ab_run "one dispatch $t pp512 tg128" VKQ_FUSED_FFN=on --type $t --prompt 512 --gen 128 --reps 3 --no-breakdown
  done
  VKQ_FUSED_FFN=on ab_tests "Vulkan forward: logits agree*" 120
fi
ab_summary
