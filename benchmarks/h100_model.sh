#!/usr/bin/env bash
# The forward-pass table of the forward-pass and fit issues, in one device
# call. Builds nothing: takes the bundle from benchmarks/bundle.sh (carried
# as .device) and the Vulkan loader (carried as .gl).
# Usage on the device machine, from the repo root:
#   bash .device/h100_model.sh [model|fit|all|epi|splits|block|stage|prefill|prefill-step|prefetch|chain-decode]
#   model: vkq bench model --synthetic llama-2-7b --type q4_0 / q8_0 (pp512, tg128),
#          with the per-op decode breakdown;
#   fit:   measured device memory against the forward plan for llama-2-7b
#          and tinyllama-1.1b at contexts 512 and 4096;
#   epi:   decode (tg128) with the GEMV epilogues (norm, SwiGLU) on and off;
#   splits: decode (tg128, tg512) at 1 .. 64 attention workgroups per head;
#   stage: decode (tg128) with the epilogue GEMVs' x in shared memory and not;
#   block: decode (tg128) with the epilogue GEMVs at 256 .. 1024 invocations (VKQ_BLOCK_WGS) x 2 .. 8 loads in flight;
#   prefill: pp512 with its per-op breakdown, attention in query tiles and per token;
#   prefill-step: pp512 with the GEMM 32 deep in two buffers and 64 deep in one (default);
#   prefetch: tg128 with 0 .. 40 MiB of the next GEMVs' weights read into L2 beside attention;
#   chain-decode: tg128 with decode's dispatch chain off and on (--chain).
# Writes JSON under $OUT (or ./bench-out) and prints markdown tables last.
set -uo pipefail
mode=${1:-all}
. .device/device_env.sh
$vkq devices | tee "$out/devices.txt"
: > "$out/model.jsonl"
run() {  # run ARGS...: one `vkq bench model --json`, appended to model.jsonl
  $vkq bench model "$@" --json >> "$out/model.jsonl" 2>>"$out/errors.log" || echo "FAILED: bench model $*: $(tail -2 "$out/errors.log")"
}
if [ "$mode" = model ] || [ "$mode" = all ]; then
  for t in q4_0 q8_0; do run --synthetic llama-2-7b --type $t --prompt 512 --gen 128 --reps 3; done
  run --synthetic llama-2-7b --type f16 --prompt 512 --gen 128 --reps 3 --no-breakdown
fi
if [ "$mode" = epi ]; then  # decode with the norm / SwiGLU epilogues on and off
  for t in q4_0 q8_0; do for e in "" --no-epilogues; do
    run --synthetic llama-2-7b --type $t --prompt 0 --gen 128 --reps 3 $e
  done; done
fi
if [ "$mode" = block ]; then  # the GEMVs with an epilogue: invocations x loads in flight
  for t in q4_0 q8_0; do for wg in ${VKQ_BLOCK_WGS:-256 512 1024}; do for l in 2 4 8; do
    run --synthetic llama-2-7b --type $t --prompt 0 --gen 128 --reps 3 --block-wg $wg --block-loads $l
  done; done; done
fi
if [ "$mode" = stage ]; then  # the epilogue GEMVs with x in shared memory or not
  for t in q4_0 q8_0; do for e in "" --block-stage; do
    run --synthetic llama-2-7b --type $t --prompt 0 --gen 128 --reps 3 $e
  done; done
fi
if [ "$mode" = prefill ]; then  # prefill attention in query tiles or one workgroup per token
  for t in q4_0 q8_0 f16; do for a in "" --no-tiled-attention; do
    run --synthetic llama-2-7b --type $t --prompt 512 --gen 0 --reps 3 $a
  done; done
fi
if [ "$mode" = prefill-step ]; then  # prefill with the GEMM's K per step and shared buffers
  for t in q4_0 q8_0; do for st in "--gemm-bk 32 --gemm-bufs 2" ""; do
    run --synthetic llama-2-7b --type $t --prompt 512 --gen 0 --reps 3 $st
  done; done
fi
if [ "$mode" = prefetch ]; then  # decode with attn_output's and gate/up's weights read into L2 beside attention
  for t in q4_0 q8_0; do for mb in 0 12 24 40; do
    run --synthetic llama-2-7b --type $t --prompt 0 --gen 128 --reps 3 --prefetch-mib $mb
  done; done
fi
if [ "$mode" = chain-decode ]; then  # decode's GEMVs and attention waiting on arrival counts, not barriers
  for t in q4_0 q8_0; do for c in "off" "on" "on --chain-unstaged" "off" "on" "on --chain-unstaged"; do
    run --synthetic llama-2-7b --type $t --prompt 0 --gen 128 --reps 3 --chain $c --no-breakdown
  done; done
fi
if [ "$mode" = splits ]; then  # decode attention's workgroups per head (ops::attention_splits)
  run --synthetic llama-2-7b --type q4_0 --prompt 0 --gen 128 --reps 3
  for s in 1 2 4 8 16 32 64; do run --synthetic llama-2-7b --type q4_0 --prompt 0 --gen 128 --reps 3 --attention-splits $s; done
  for s in 8 16 32 64; do run --synthetic llama-2-7b --type q4_0 --prompt 0 --gen 512 --reps 1 --attention-splits $s; done
fi
if [ "$mode" = fit ] || [ "$mode" = all ]; then
  for cfg in llama-2-7b tinyllama-1.1b; do for ctx in 512 4096; do
    run --synthetic $cfg --type q4_0 --prompt $ctx --gen 16 --reps 1 --no-breakdown --force
    $vkq fit --config $cfg --type q4_0 --ctx $ctx --force --json > "$out/fit-$cfg-$ctx.json" 2>>"$out/errors.log"
  done; done
fi
python3 .device/summarize_model.py "$out/model.jsonl" | tee "$out/table.md"
