#!/usr/bin/env bash
# The accuracy table of quant/RESULTS.md: stories260K converted to F32,
# quantized with RTN, GPTQ and AWQ to Q4_0, Q4_1 and Q8_0 (calibration:
# quant/data/calibration.txt, default samples / seq-len / seed), each scored
# by `vkq perplexity --ref` against the F32 model on quant/data/heldout.txt
# on the CPU reference. Prints a Markdown table; files go to $OUT.
#   quant/results.sh [EXTRA QUANTIZE ARGS...]     (VKQ, VKQ_MODELS_DIR, OUT override the defaults)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VKQ=${VKQ:-build/vkq}
MODELS=${VKQ_MODELS_DIR:-../shared/models}
OUT=${OUT:-build/quant-results}
mkdir -p "$OUT"
"$VKQ" convert "$MODELS/stories260K.bin" --tokenizer "$MODELS/tok512.bin" -o "$OUT/f32.gguf" >/dev/null
score() {  # model -> "ppl kld_mean kld_p99 top1"
  "$VKQ" perplexity -m "$1" -f quant/data/heldout.txt --ref "$OUT/f32.gguf" --device cpu --json |
    python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["ppl"], j["kld"]["mean"], j["kld"]["p99"], j["top1"]["rate"])'
}
read -r ppl0 _ _ _ < <(score "$OUT/f32.gguf")
echo "| method | type | PPL | KLD mean | KLD p99 | top-1 | KLD / RTN Q4_0 | seconds |"
echo "|---|---|---|---|---|---|---|---|"
printf '| F32 | — | %.4f | 0 | 0 | 100%% | — | — |\n' "$ppl0"
rtn=""
for type in q4_0 q4_1 q8_0; do
  for method in rtn gptq awq; do
    f="$OUT/$method-$type.gguf"
    calib=()
    [ "$method" = rtn ] || calib=(--calib quant/data/calibration.txt)
    start=$(date +%s.%N)
    "$VKQ" quantize "$OUT/f32.gguf" "$f" --type "$type" --method "$method" "${calib[@]}" "$@" >/dev/null
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    read -r ppl kld p99 top1 < <(score "$f")
    [ -n "$rtn" ] || rtn=$kld
    python3 -c "import sys; m,t,p,k,q,a,r,s=sys.argv[1:]; print(f'| {m.upper()} | {t.upper()} | {float(p):.4f} | {float(k):.5f} | {float(q):.4f} | {100*float(a):.2f}% | {float(k)/float(r):.3f} | {float(s):.1f} |')" \
      "$method" "$type" "$ppl" "$kld" "$p99" "$top1" "$rtn" "$secs"
  done
done
