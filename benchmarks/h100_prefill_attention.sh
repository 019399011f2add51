#!/usr/bin/env bash
# Prefill attention on cooperative matrices (attention_coopmat.comp) against
# the scalar query tiles (VKQ_PREFILL_ATTENTION=tiled), in one device call:
# the kernel's tests on the GPU when the test binary is carried
# (.device/vkq_tests), pp512 for Q4_0 and Q8_0 both ways, the tile sweep
# (VKQ_ATTENTION_COOPMAT_TILE) for Q4_0, the forward-pass tests, then the
# prefill GEMM at two model shapes with four tiles. Each run
# appends to $out/ab.jsonl (tags in $out/tags.txt), so a call cut short
# keeps what ran; the summary: bash .device/h100_prefill_attention.sh summary.
# Builds nothing: carry .device (benchmarks/bundle.sh, stories260K's .bin
# files in .device/models for the tests) and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_prefill_attention.sh [run|tall|summary]
# tall: pp512 with the GEMM's default tiles (256 x 128 tiles 32 deep for
# gate/up since the session of 2026-12-06) against 128 x 128 tiles 64 deep
# everywhere (--gemm-bk 64), twice, then the GEMM at QKV's and a
# 14336-row shape with both tiles (vkq bench matmul).
set -uo pipefail
mode=${1:-run}
. .device/device_env.sh
. .device/decode_ab.sh "$mode"
if [ "$mode" = tall ]; then
  for r in 1 2; do for t in q4_0 q8_0; do
    ab_run "tall-default $t pp512 ($r)" - --type $t --prompt 512 --gen 0 --reps 3
    ab_run "bk64 $t pp512 ($r)" - --type $t --prompt 512 --gen 0 --reps 3 --gemm-bk 64
  done; done
  ab_summary
  for mk in "12288 4096" "14336 4096" "22016 4096"; do
    gemm q4_0 $mk
    gemm q4_0 $mk --tile-m 256 --gemm-bk 32 --gemm-bufs 1
  done
  exit
fi
pp() {  # pp TAG ENV TYPE
  ab_run "$1" "$2" --type "$3" --prompt 512 --gen 0 --reps 3
}
ab_tests "attention on cooperative matrices*" 60
pp "tiled q4_0 pp512" VKQ_PREFILL_ATTENTION=tiled q4_0
pp "coopmat q4_0 pp512" - q4_0
pp "tiled q8_0 pp512" VKQ_PREFILL_ATTENTION=tiled q8_0
pp "coopmat q8_0 pp512" - q8_0
for t in 2,64 4,32; do pp "coopmat $t q4_0 pp512" VKQ_ATTENTION_COOPMAT_TILE=$t q4_0; done
pp "tiled q4_0 pp512 (2)" VKQ_PREFILL_ATTENTION=tiled q4_0
pp "coopmat q4_0 pp512 (2)" - q4_0
ab_tests "[forward]" 150
ab_summary
# The prefill GEMM at gate/up's and down's shapes (n = 512), default tile
# against other invocation counts and tiles (vkq bench matmul, TFLOP/s).
for mk in "22016 4096" "4096 11008"; do
  for cfg in "" "--gemm-wg 128" "--tile-m 256 --gemm-bk 32 --gemm-bufs 1" "--tile-m 64"; do gemm q4_0 $mk $cfg; done
done
