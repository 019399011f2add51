#!/usr/bin/env bash
# Several benchmark stages in one device call (device time is short), each
# under its own time limit, with everything packed into $OUT/all.tgz after
# every stage (a call returns at most 8 files). Builds nothing: carry .device
# (benchmarks/bundle.sh, plus stories260K*.gguf and heldout.txt copied in)
# and .gl (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/device_all.sh STAGE[:SECONDS] ...
# Stages: table, tune, tune-k4096, gemm, gemm-step, chain (h100_kernels.sh modes); model, fit,
# all, epi, splits, block, stage, prefill, prefill-step, prefetch, chain-decode (h100_model.sh modes); stories (greedy stories260K F32 / Q4_0 on the
# GPU, and perplexity of Q4_0 against F32 on the GPU); quant (GPTQ and AWQ
# Q4_0 of stories260K calibrated on the GPU and on the CPU, each file's KLD
# against F32; needs .device/calibration.txt); fuzz (the libFuzzer targets
# carried in .device/fuzz by `VKQ_BUNDLE_FUZZ=1 benchmarks/bundle.sh`, one
# after another, SECONDS shared among them, VKQ_FUZZ_PROCS processes each,
# default every core; fuzz:SECONDS:fuzz_a,fuzz_b for some of them); fuzzbg
# (the same, niced, beside the stages after it, with two cores left to them;
# waited for at the end).
set -uo pipefail
o=/tmp/vkq-out
back=${OUT:-.}  # what the call returns: all.tgz
OUT=$o
. .device/device_env.sh  # the loader, the environment and $vkq, for every stage
pack() { tar czf "$back/all.tgz" -C "$o" .; }
for arg in "$@"; do
  stage=${arg%%:*}
  rest=${arg#*:}
  [ "$rest" = "$arg" ] && rest=300
  limit=${rest%%:*}
  only=""  # fuzz stages: STAGE:SECONDS:target,target
  [ "$rest" = "$limit" ] || only=${rest#*:}
  mkdir -p "$o/$stage"
  start=$(date +%s)
  case "$stage" in
    table | tune | tune-k4096 | gemm | gemm-step | chain | quick)
      OUT=$o/$stage timeout "$limit" bash .device/h100_kernels.sh "$stage" > "$o/$stage/log.txt" 2>&1 ;;
    model | fit | all | epi | splits | block | stage | prefill | prefill-step | prefetch | chain-decode)
      OUT=$o/$stage timeout "$limit" bash .device/h100_model.sh "$stage" > "$o/$stage/log.txt" 2>&1 ;;
    stories)
      (
        for m in stories260K stories260K-q4_0; do
          timeout 60 $vkq run -m .device/$m.gguf -p "Once upon a time" -n 40 --temp 0 --json \
            > "$o/stories/run-$m.json" 2> "$o/stories/run-$m.err"
          echo "== $m: $(tail -1 "$o/stories/run-$m.err")"
          python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['text'])" "$o/stories/run-$m.json"
        done
        timeout 120 $vkq perplexity -m .device/stories260K-q4_0.gguf -f .device/heldout.txt \
          --ref .device/stories260K.gguf --json > "$o/stories/ppl.json" 2> "$o/stories/ppl.err"
        tail -3 "$o/stories/ppl.err"
      ) > "$o/stories/log.txt" 2>&1 ;;
    quant)
      (
        for m in gptq awq; do for d in 0 cpu; do
          f=/tmp/$m-$d.gguf
          timeout 120 $vkq quantize .device/stories260K.gguf $f --type q4_0 --method $m --calib .device/calibration.txt \
            --device $d --report "$o/quant/$m-$d.json" 2>&1 | tail -1
          timeout 60 $vkq perplexity -m $f -f .device/heldout.txt --ref .device/stories260K.gguf --device cpu 2>&1 | grep -E "KLD|same top"
        done; done
      ) > "$o/quant/log.txt" 2>&1 ;;
    fuzz | fuzzbg)
      targets=$(ls .device/fuzz 2>/dev/null | grep '^fuzz_' || true)
      [ -z "$only" ] || targets=${only//,/ }
      if [ -z "$targets" ]; then echo "no fuzz targets in .device/fuzz" > "$o/$stage/log.txt"; continue; fi
      each=$(( limit / $(echo "$targets" | wc -w) ))
      procs=${VKQ_FUZZ_PROCS:-$(nproc)}
      nice_=0
      if [ "$stage" = fuzzbg ]; then procs=${VKQ_FUZZ_PROCS:-$(( $(nproc) - 2 ))}; nice_=10; fi
      run_fuzz() {
        VKQ_FUZZ_BIN_DIR=.device/fuzz VKQ_FUZZ_BUILD_DIR="$o/$stage" VKQ_FUZZ_PROCS=$procs VKQ_FUZZ_NICE=$nice_ \
          VKQ_MODELS_DIR=.device/models timeout $(( limit + 120 )) bash scripts/fuzz.sh "$each" $targets > "$o/$stage/log.txt" 2>&1
      }
      if [ "$stage" = fuzz ]; then run_fuzz; else run_fuzz & fuzz_bg=$!; echo "### fuzzbg: started"; continue; fi ;;
    *) echo "unknown stage $stage" ;;
  esac
  echo "### $stage: rc $? in $(( $(date +%s) - start )) s"
  tail -45 "$o/$stage/log.txt"
  pack
done
if [ -n "${fuzz_bg:-}" ]; then
  wait "$fuzz_bg"
  echo "### fuzzbg: rc $?"
  grep '^fuzz:' "$o/fuzzbg/log.txt"
  pack
fi
