#!/usr/bin/env bash
# Decode attention A/B in one device call (benchmarks/RESULTS.md, calls
# 50-52): attention_decode.comp at several VKQ_DECODE_SPLIT_ROWS against
# attention.comp's fused-rope kernel (VKQ_DECODE_ATTENTION=fallback), tg128
# for Q4_0 and Q8_0 twice, tg512 for Q4_0; first the decode-attention tests
# when the test binary is carried (.device/vkq_tests). The QKV GEMV's
# attention tail is off in every run (--fused-attention-rows 0: that A/B is
# h100_fused_attention.sh). Builds nothing: carry .device
# (benchmarks/bundle.sh) and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_decode_attention.sh [ROWS ...]   (default: 1 4 8)
set -uo pipefail
. .device/device_env.sh
. .device/decode_ab.sh
rows=${*:-1 4 8}
if [ -x .device/vkq_tests ]; then
  VKQ_VALIDATION=0 timeout 120 .device/vkq_tests "attention with fused RoPE*" 2>&1 | tail -2
fi
tg() {  # tg TAG ENV GEN TYPE
  ab_run "$1" "$2" --type "$4" --prompt 0 --gen "$3" --reps 3 --no-breakdown --fused-attention-rows 0
}
for round in 1 2; do for t in q4_0 q8_0; do
  tg "fallback $t tg128" VKQ_DECODE_ATTENTION=fallback 128 $t
  for r in $rows; do tg "rows$r $t tg128" VKQ_DECODE_SPLIT_ROWS=$r 128 $t; done
done; done
tg "fallback q4_0 tg512" VKQ_DECODE_ATTENTION=fallback 512 q4_0
for r in $rows; do tg "rows$r q4_0 tg512" VKQ_DECODE_SPLIT_ROWS=$r 512 q4_0; done
ab_summary
