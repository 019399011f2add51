#!/usr/bin/env bash
# The kernel table of the dequant-matmul issue, in one device call. Builds
# nothing: takes the bundle from benchmarks/bundle.sh (carried as .device)
# and the Vulkan loader from ../shared/device/prepare.sh (carried as .gl).
# Usage on the device machine, from the repo root:
#   bash .device/h100_kernels.sh [table|tune|gemm|gemm-step|chain|chain-link|persist|quick]
# Writes logs and JSON under $OUT (or ./bench-out).
set -uo pipefail
mode=${1:-table}
shift || true
. .device/device_env.sh
$vkq devices > "$out/devices.txt" 2>&1
$vkq devices --json > "$out/devices.json" 2>&1
cat "$out/devices.txt"
$vkq bench copy --json > "$out/copy.json" 2>&1
$vkq bench copy
row() {  # row TYPE M K N [extra args]: one `vkq bench matmul` run, JSON appended to matmul.jsonl
  local t=$1 m=$2 k=$3 n=$4; shift 4
  $vkq bench matmul --type "$t" --m "$m" --k "$k" --n "$n" --runs 50 --json "$@" >> "$out/matmul.jsonl" 2>>"$out/errors.log" ||
    echo "FAILED: $t m=$m k=$k n=$n $*: $(tail -2 "$out/errors.log")"
}
chain() {  # chain LABEL [bench chain args]: one `vkq bench chain`, JSON appended to chain.jsonl
  local label=$1; shift
  { printf '{"label": "%s", "result": ' "$label"; $vkq bench chain --json "$@" 2>>"$out/errors.log" || echo null; echo '}'; } \
    | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.read())))' >> "$out/chain.jsonl" ||
    echo "FAILED: chain $label $*: $(tail -2 "$out/errors.log")"
}
chain_table() {  # the chain.jsonl runs as a markdown table (chain.md)
  python3 - "$out/chain.jsonl" <<'PY' | tee "$out/chain.md"
import json, sys
print("| chain | dispatches | MB read | us (host) | us per dispatch | roofline share | us (end timestamps) | us per entry (timestamped) |")
print("|---|---|---|---|---|---|---|---|")
for line in open(sys.argv[1]):
    d = json.loads(line); r = d["result"]
    if not r: print(f"| {d['label']} | failed |"); continue
    c = r["chain"]
    print(f"| {d['label']} | {c['dispatches']} | {c['bytes']/1e6:.1f} | {c['median_us']:.1f} | {c['us_per_dispatch']:.2f} | "
          f"{100*c['roofline_share']:.1f}% | {c['timestamp_us']:.1f} | {', '.join(f'{e:.2f}' for e in c['entry_us'])} |")
PY
}
# One decode layer of llama-2-7b in the GPU layout, bytes per dispatch: QKV,
# attention (the f16 K and V of 576 positions, tg128's mean after pp512),
# attn_output, gate/up, down.
L_Q4="28311552,9437184,9437184,50724864,25362432"
L_Q8="53477376,9437184,17825792,95813632,47906816"
# The same at tg128 from an empty cache (`bench model`'s tg: positions
# 0..127, K and V of 64 positions on average, 1 MiB).
S_Q4="28311552,1048576,9437184,50724864,25362432"
S_Q8="53477376,1048576,17825792,95813632,47906816"
case "$mode" in
  persist)  # the chain in one persistent dispatch (bench chain --persistent) against barriers, tg128's layers x 32
    for sz in "q4_0 $S_Q4" "q8_0 $S_Q8"; do
      set -- $sz
      chain $1-barriers --sizes $2 --layers 32
      chain $1-barriers-g528 --sizes $2 --layers 32 --groups 528
      chain $1-nobarrier --sizes $2 --layers 32 --no-barriers
      # invocations, workgroups (2, 4, 8, 16 per SM of the H100's 132), prefetches
      for cfg in "1024 264 0 2 3 4" "512 528 0 2 4" "256 1056 0 2 4 8" "128 2112 4 8"; do
        set -- $cfg
        local_wg=$1 local_g=$2
        shift 2
        for pf in "$@"; do
          chain ${sz%% *}-persist-wg$local_wg-g$local_g-pf$pf --sizes ${sz#* } --layers 32 --persistent --wg $local_wg \
            --groups $local_g --prefetch $pf
        done
      done
    done
    chain_table
    exit 0 ;;
  chain-link)  # decode's dispatch-chain links (bench chain --linked) against barriers, tg128's Q4_0 layer x 32
    chain empty --sizes 0 --layers 160
    chain empty-linked --sizes 0 --layers 160 --linked
    chain empty-linked-acqload --sizes 0 --layers 160 --linked --acquire-load
    for g in 128 384 1056; do
      chain tg128-g$g --sizes $S_Q4 --layers 32 --groups $g
      chain tg128-g$g-nobarrier --sizes $S_Q4 --layers 32 --groups $g --no-barriers
      chain tg128-g$g-linked-acqload --sizes $S_Q4 --layers 32 --groups $g --linked --acquire-load
      chain tg128-g$g-linked --sizes $S_Q4 --layers 32 --groups $g --linked
      chain tg128-g$g-linked-early --sizes $S_Q4 --layers 32 --groups $g --linked --early
    done
    chain_table ;;
  chain)  # what the decode step's structure costs with perfect memory-bound kernels
    chain empty --sizes 0 --layers 160
    chain empty-nobarrier --sizes 0 --layers 160 --no-barriers
    chain 1M --sizes 1M --layers 160
    chain 9.4M --sizes 9437184 --layers 160
    chain 25.4M --sizes 25362432 --layers 64
    chain 28.3M --sizes 28311552 --layers 64
    chain 50.7M --sizes 50724864 --layers 32
    chain layer-q4_0 --sizes $L_Q4 --layers 32
    chain layer-q4_0-constant-fill --sizes $L_Q4 --layers 32 --constant-fill
    chain 9.4M-constant-fill --sizes 9437184 --layers 160 --constant-fill
    chain layer-q4_0-nobarrier --sizes $L_Q4 --layers 32 --no-barriers
    chain layer-q4_0-wg512 --sizes $L_Q4 --layers 32 --wg 512
    chain layer-q4_0-wg1024 --sizes $L_Q4 --layers 32 --wg 1024
    chain layer-q8_0 --sizes $L_Q8 --layers 32
    chain layer-q4_0-tg128 --sizes $S_Q4 --layers 32
    chain layer-q8_0-tg128 --sizes $S_Q8 --layers 32
    chain layer-q4_0-tg128-wg512 --sizes $S_Q4 --layers 32 --wg 512
    chain token-q4_0-10dispatches --sizes 452984832,150994944,150994944,811597824,405798912 --layers 2
    chain_table
    exit 0 ;;
  gemm-step)  # prefill GEMM at n = 512: f32 / f16 activations x K per step and shared buffers
    for t in q4_0 q8_0 f16; do for mk in "4096 14336" "14336 4096" "4096 4096"; do for a in f32 f16; do
      for st in "--gemm-bk 32 --gemm-bufs 2" "--gemm-bufs 1 --gemm-bk 32" ""; do row $t $mk 512 --act $a $st "$@"; done
    done; done; done
    for st in "--gemm-bk 128 --gemm-bufs 1 --tile-n 64" "--gemm-bk 64 --gemm-bufs 2 --tile-n 64"; do
      row q4_0 4096 14336 512 $st "$@"; done ;;
  quick)
    row q4_0 4096 14336 1; row q8_0 4096 14336 1 ;;
  tune)  # GEMV workgroup size x rows per workgroup, at (4096, 14336), n = 1
    for t in q4_0 q8_0; do
      for wg in 32 64 128; do for r in 1 2 4; do for u in 1 2 4; do
        row $t 4096 14336 1 --wg $wg --rows $r --unroll $u "$@"; done; done; done
    done ;;
  tune-k4096)  # GEMV on short rows (k = 4096): workgroup size x rows per workgroup
    for t in q4_0 q8_0; do for mk in "128256 4096" "4096 4096"; do
      for wg in 32 64 128; do for r in 1 2 4; do row $t $mk 1 --wg $wg --rows $r "$@"; done; done
    done; done ;;
  gemm)  # cooperative-matrix GEMM: workgroup size x tile, n = 512 (and the tiled kernel once)
    for mk in "4096 14336" "4096 4096" "14336 4096"; do
      row q4_0 $mk 512 "$@"
      for wg in 128 256; do for tm in 64 128; do for tn in 64 128; do
        row q4_0 $mk 512 --gemm-wg $wg --tile-m $tm --tile-n $tn "$@"; done; done; done
    done
    for t in q8_0 f16 q4_1; do row $t 4096 14336 512 "$@"; done
    row q4_0 4096 14336 512 --act f16 "$@"
    for n in 16 64 128; do row q4_0 4096 14336 $n "$@"; done
    row q4_0 4096 14336 512 --variant matmul_q4_0_f32_tiled "$@" ;;
  table)
    # Decode GEMV targets: n = 1 at the four shapes, Q4_0 and Q8_0.
    for t in q4_0 q8_0; do
      for mk in "4096 4096" "14336 4096" "4096 14336" "128256 4096"; do row $t $mk 1; done
    done
    # Other types, the fp32-dequantizing variant, and a tiny shape that shows
    # the fixed cost of one call (dispatches + barrier + timestamps).
    row q4_1 4096 14336 1; row f16 4096 14336 1
    row q4_0 4096 14336 1 --variant matvec_q4_0_f32_subgroup
    row q4_0 128 4096 1
    for n in 2 4 8; do row q4_0 4096 14336 $n; done
    # Prefill GEMM, n = 512.
    for mk in "4096 4096" "14336 4096" "4096 14336"; do row q4_0 $mk 512; done
    for t in q8_0 f16; do row $t 4096 14336 512; done
    row q4_0 4096 14336 512 --variant matmul_q4_0_f32_tiled ;;
esac
python3 .device/summarize.py "$out/matmul.jsonl" | tee "$out/table.md"
