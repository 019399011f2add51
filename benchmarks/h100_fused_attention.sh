#!/usr/bin/env bash
# Decode attention as the QKV GEMV's tail (--fused-attention-rows,
# shaders/common/qkv_attention.glsl) against the attention kernel after it
# (--fused-attention-rows 0), in one device call, most wanted first:
# tg128 Q4_0 both ways, the tail's forward-pass test on the GPU when the
# test binary is carried (.device/vkq_tests), tg128 Q8_0 both ways, Q4_0
# again, pp512 + tg128 for Q4_0 and Q8_0 with the tail (the model table),
# then (full) tg512 Q4_0 with the tail at 0, 256 and 512 rows (at 256 the
# split kernel takes positions 256 .. 511), --ablate for Q4_0 both ways and
# every forward-pass test. Each run appends to $out/ab.jsonl, so a call cut
# short keeps what ran; the summary: bash .device/h100_fused_attention.sh summary.
# Builds nothing: carry .device (benchmarks/bundle.sh, stories260K's .bin
# files in .device/models for the tests) and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_fused_attention.sh [quick|full|summary]
set -uo pipefail
mode=${1:-full}
. .device/device_env.sh
. .device/decode_ab.sh "$mode"
tg() {  # tg TAG ROWS GEN TYPE [ARGS...]
  local tag=$1 rows=$2 gen=$3 t=$4
  shift 4
  ab_run "$tag" - --type "$t" --prompt 0 --gen "$gen" --reps 3 --no-breakdown --fused-attention-rows "$rows" "$@"
}
tg "split q4_0 tg128" 0 128 q4_0
tg "tail q4_0 tg128" 512 128 q4_0
ab_tests "Vulkan forward: decode attention as the QKV*" 90
tg "split q8_0 tg128" 0 128 q8_0
tg "tail q8_0 tg128" 512 128 q8_0
tg "split q4_0 tg128 (2)" 0 128 q4_0
tg "tail q4_0 tg128 (2)" 512 128 q4_0
for t in q4_0 q8_0; do
  ab_run "tail $t pp512 tg128" - --type $t --prompt 512 --gen 128 --reps 3 --no-breakdown --fused-attention-rows 512
done
if [ "$mode" = full ]; then
  for rows in 0 256 512; do tg "tail$rows q4_0 tg512" $rows 512 q4_0; done
  tg "split q4_0 tg128 ablate" 0 128 q4_0 --ablate
  tg "tail q4_0 tg128 ablate" 512 128 q4_0 --ablate
  ab_tests "[forward]" 300
fi
ab_summary
