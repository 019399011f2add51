#!/usr/bin/env bash
# Decode attention A/B in one device call (benchmarks/RESULTS.md, calls
# 50-52): attention_decode.comp at several VKQ_DECODE_SPLIT_ROWS against
# attention.comp's fused-rope kernel (VKQ_DECODE_ATTENTION=fallback), tg128
# for Q4_0 and Q8_0 twice, tg512 for Q4_0; first the decode-attention tests
# when the test binary is carried (.device/vkq_tests). Builds nothing: carry
# .device (benchmarks/bundle.sh) and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_decode_attention.sh [ROWS ...]   (default: 1 4 8)
set -uo pipefail
. .device/device_env.sh
rows=${*:-1 4 8}
: > "$out/tags.txt"
: > "$out/decode_attention.jsonl"
if [ -x .device/vkq_tests ]; then
  VKQ_VALIDATION=0 timeout 120 .device/vkq_tests "attention with fused RoPE*" 2>&1 | tail -2
fi
bench() {  # bench TAG ENV GEN TYPE
  echo "$1" >> "$out/tags.txt"
  env "$2" $vkq bench model --synthetic llama-2-7b --type "$4" --prompt 0 --gen "$3" --reps 3 --no-breakdown --json \
    >> "$out/decode_attention.jsonl" 2>> "$out/errors.log" || echo "FAILED: $1"
}
for round in 1 2; do for t in q4_0 q8_0; do
  bench "fallback $t tg128" VKQ_DECODE_ATTENTION=fallback 128 $t
  for r in $rows; do bench "rows$r $t tg128" VKQ_DECODE_SPLIT_ROWS=$r 128 $t; done
done; done
bench "fallback q4_0 tg512" VKQ_DECODE_ATTENTION=fallback 512 q4_0
for r in $rows; do bench "rows$r q4_0 tg512" VKQ_DECODE_SPLIT_ROWS=$r 512 q4_0; done
python3 - "$out" <<'PY'
import os, sys
sys.path.insert(0, ".device")
from json_documents import documents
out = sys.argv[1]
tags = open(os.path.join(out, "tags.txt")).read().split("\n")
for tag, d in zip(tags, documents(open(os.path.join(out, "decode_attention.jsonl")).read())):
    r = d["result"]
    print(f"{tag}: tg {r['gen_tokens_per_s']:.1f} t/s, {100 * r['decode_roofline_share']:.1f}% of the roofline")
PY
