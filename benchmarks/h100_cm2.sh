#!/usr/bin/env bash
# The prefill GEMM on VK_NV_cooperative_matrix2 (matmul_cm2.comp, the
# default where the driver has it) against the KHR cooperative-matrix kernel
# (matmul_coopmat.comp; VKQ_DEVICE_PROFILE=no-coopmat2 or --variant), in one
# device call. Builds nothing: carry .device (benchmarks/bundle.sh, the test
# binary and stories260K's .bin files in .device/models) and .gl
# (benchmarks/prepare_device.sh).
# Usage on the device machine, from the repo root:
#   bash .device/h100_cm2.sh [run|sweep|diag|verify|order|summary]
# run: the driver's coopmat2 properties, the GEMM and forward tests on this
# GPU, the GEMM at the four Llama-2-7B shapes (n = 512) both ways, pp512 for
# Q4_0 and Q8_0 both ways (tagged runs in $out/ab.jsonl).
# verify: the GEMM, conversion and forward tests on this GPU, pp512 with the
# prefill GEMMs on fp16 activations (the default here) against
# VKQ_PREFILL_F16=off (the KHR kernel on fp32 ones), the model table
# (device_all.sh model), the GEMM at the four shapes on fp16 activations.
# order: the GEMMs' tile order (VKQ_GEMM_ORDER=rows, the default, against
# cols): pp512 for Q4_0, Q8_0 and F16 twice each way, then the GEMM at the
# four shapes both ways (Q4_0 on fp32 activations: the KHR kernel; F16 on
# fp16: the cm2 kernel).
# dequant: prefill's GEMMs on fp16 copies of the block-type weights
# (VKQ_PREFILL_DEQUANT, auto = on here) against the block kernels
# (VKQ_PREFILL_DEQUANT=off): its kernel and forward tests on this GPU, pp512
# for Q4_0 and Q8_0 each way (Q4_0's default twice), then the model table
# (device_all.sh model).
# f16out: prefill's RMSNorms and SwiGLU writing the GEMMs' fp16 activations
# themselves (the default) against fp32 and a conversion
# (VKQ_PREFILL_F16_OUT=off): their op and forward tests on this GPU, pp512
# for Q4_0, Q8_0 and F16 each way, twice, interleaved; decode by removal
# (--ablate, tg128 Q4_0 and Q8_0); then the model table.
# sweep: the cm2 kernel's tiles (--gemm-wg, --tile-m, --tile-n, --gemm-bk) at
# the four shapes.
# diag: where the cm2 kernel's time goes at QKV's shape: fp16 weights and
# activations, fp16 weights with fp32 activations, Q4_0 with fp16 and fp32
# activations, each at three tiles; the KHR kernel once.
set -uo pipefail
mode=${1:-run}
. .device/device_env.sh
. .device/decode_ab.sh "$mode"
shapes=("12288 4096" "4096 4096" "22016 4096" "4096 11008")
# pp_ab TAG VAR [TYPES] [ROUNDS]: pp512 for each type (default Q4_0 and
# Q8_0) with the default, then with VAR=off; ROUNDS times (default 1,
# tagged "(r)" when more), interleaved.
pp_ab() {
  local types=${3:-q4_0 q8_0} rounds=${4:-1} r t sfx
  for r in $(seq "$rounds"); do for t in $types; do
    sfx=""; [ "$rounds" -gt 1 ] && sfx=" ($r)"
    ab_run "$1 (default) $t pp512$sfx" - --type $t --prompt 512 --gen 0 --reps 3
    ab_run "$2=off $t pp512$sfx" $2=off --type $t --prompt 512 --gen 0 --reps 3
  done; done
}
if [ "$mode" = sweep ]; then
  for mk in "${shapes[@]}"; do
    for cfg in "--tile-m 128 --tile-n 128 --gemm-bk 64" "--tile-m 256 --tile-n 128" "--tile-m 128 --tile-n 256" \
      "--tile-m 256 --tile-n 128 --gemm-bk 64" "--tile-m 128 --tile-n 256 --gemm-bk 64" "--tile-m 64 --tile-n 128" \
      "--tile-m 256 --tile-n 256" "--gemm-wg 128"; do
      gemm q4_0 $mk $cfg
    done
  done
  exit
fi
if [ "$mode" = order ]; then
  for r in 1 2; do for t in q4_0 q8_0 f16; do for o in rows cols; do
    ab_run "$o $t pp512 ($r)" VKQ_GEMM_ORDER=$o --type $t --prompt 512 --gen 0 --reps 3
  done; done; done
  ab_summary
  for mk in "${shapes[@]}"; do for o in rows cols; do
    echo "$o $(VKQ_GEMM_ORDER=$o gemm q4_0 $mk)"
    echo "$o $(VKQ_GEMM_ORDER=$o gemm f16 $mk --act f16)"
  done; done
  exit
fi
if [ "$mode" = dequant ]; then
  ab_tests "dequant_f16 writes*,GEMM on DequantF16*" 120
  ab_tests "Vulkan forward: prefill GEMMs on*,Vulkan forward: prefill on dequantized*,Vulkan forward: logits agree*" 150
  pp_ab dequant VKQ_PREFILL_DEQUANT
  ab_run "dequant (default) q4_0 pp512 (2)" - --type q4_0 --prompt 512 --gen 0 --reps 3
  AB_PREFILL_OPS=1 ab_summary
  bash .device/device_all.sh model:150
  exit
fi
if [ "$mode" = f16out ]; then
  ab_tests "rmsnorm matches*,swiglu matches*" 120
  ab_tests "Vulkan forward: prefill norms and SwiGLU*,Vulkan forward: prefill GEMMs on*,Vulkan forward: prefill on dequantized*" 150
  pp_ab "f16 out" VKQ_PREFILL_F16_OUT "q4_0 q8_0 f16" 2
  for t in q4_0 q8_0; do
    ab_run "ablate $t tg128" - --type $t --prompt 0 --gen 128 --reps 3 --ablate --no-breakdown
  done
  AB_PREFILL_OPS=1 ab_summary
  bash .device/device_all.sh model:150
  exit
fi
if [ "$mode" = verify ]; then
  ab_tests "GEMM*,convert_f16*,the GEMM runs*" 120
  ab_tests "Vulkan forward: logits agree*,Vulkan forward: prefill GEMMs*,Vulkan forward: allocations*,Vulkan forward: greedy*" 150
  pp_ab "f16 activations" VKQ_PREFILL_F16
  ab_summary
  for mk in "${shapes[@]}"; do gemm q4_0 $mk --act f16; done
  exit
fi
if [ "$mode" = diag ]; then
  for ta in "f16 f16" "f16 f32" "q4_0 f16" "q4_0 f32"; do
    set -- $ta
    for cfg in "" "--gemm-bk 64" "--gemm-wg 128 --gemm-bk 64"; do
      gemm $1 12288 4096 --act $2 $cfg
    done
  done
  gemm q4_0 12288 4096 --variant matmul_q4_0_f32_coopmat
  exit
fi
$vkq devices --json > "$out/devices.json" 2>&1
python3 - "$out/devices.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for dev in d if isinstance(d, list) else d.get("devices", [d]):
    print({k: v for k, v in dev.items() if "matrix2" in k})
PY
ab_tests "GEMM*" 240
ab_tests "the GEMM runs*" 60
for mk in "${shapes[@]}"; do
  for t in q4_0 q8_0; do
    gemm $t $mk
    gemm $t $mk --variant matmul_${t}_f32_coopmat
  done
done
for t in q4_0 q8_0; do
  ab_run "cm2 $t pp512" - --type $t --prompt 512 --gen 0 --reps 3
  ab_run "coopmat $t pp512" VKQ_DEVICE_PROFILE=no-coopmat2 --type $t --prompt 512 --gen 0 --reps 3
done
ab_summary
ab_tests "[forward]" 150
