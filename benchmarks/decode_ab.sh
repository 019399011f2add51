# Sourced by the A/B scripts (h100_decode_attention.sh, h100_cm2.sh,
# h100_fused_attention.sh, h100_prefill_attention.sh) after device_env.sh:
# tagged `vkq bench model --synthetic llama-2-7b` runs into $out/ab.jsonl,
# a line per run, and the carried test binary's cases (ab_tests).
# Sourced with the argument `summary` (the scripts pass their mode): the
# runs already there stay, their summary is printed and the script exits.
if [ "${1:-}" != summary ]; then
  : > "$out/tags.txt"
  : > "$out/ab.jsonl"
fi
# ab_run TAG ENV ARGS...: one run (ENV: VAR=value words for it, or -).
ab_run() {
  local tag=$1 e=$2
  shift 2
  echo "$tag" >> "$out/tags.txt"
  [ "$e" = - ] && e=VKQ_AB=1
  env $e $vkq bench model --synthetic llama-2-7b "$@" --json >> "$out/ab.jsonl" 2>> "$out/errors.log" || echo "FAILED: $tag"
}
# tg128 TAG ENV TYPE [ARGS...]: ab_run of tg128 from an empty cache (median of 3, no breakdown).
tg128() {
  local tag=$1 e=$2 t=$3
  shift 3
  ab_run "$tag" "$e" --type "$t" --prompt 0 --gen 128 --reps 3 --no-breakdown "$@"
}
# ab_tests FILTER SECONDS: the carried test binary's cases matching FILTER
# on this GPU (validation off: the machine has no layer), its last lines.
ab_tests() {
  [ -x .device/vkq_tests ] || return 0
  VKQ_VALIDATION=0 VKQ_MODELS_DIR=.device/models timeout "$2" .device/vkq_tests "$1" 2>&1 | tail -4
}
# ab_summary: tg tokens/s and share of the roofline per tagged run.
ab_summary() {
  python3 - "$out" <<'PY'
import os, sys
sys.path.insert(0, ".device")
from json_documents import documents
out = sys.argv[1]
tags = open(os.path.join(out, "tags.txt")).read().split("\n")
for tag, d in zip(tags, documents(open(os.path.join(out, "ab.jsonl")).read())):
    r = d["result"]
    line = f"{tag}: tg {r['gen_tokens_per_s']:.1f} t/s, {100 * r['decode_roofline_share']:.1f}% of the roofline"
    if r.get("prompt_tokens_per_s"):
        line += f", pp {r['prompt_tokens_per_s']:.1f} t/s"
    pb = r.get("prefill_breakdown") or []
    if pb and os.environ.get("AB_PREFILL_OPS"):  # every op's ms per prefill
        line += ", prefill ms: " + ", ".join(f"{b.get('op')} {b.get('us', b.get('us_per_prefill', 0)) / 1000:.2f}" for b in pb)
    else:
        for b in pb:
            if b.get("op") == "attention":
                line += f", attention {b.get('us', b.get('us_per_prefill', 0)) / 1000:.2f} ms"
    if r.get("attention_variant_prefill") and r.get("prompt_tokens_per_s"):
        line += f" ({r['attention_variant_prefill']})"
    if r.get("ablation"):
        line += ", ablate µs/token " + ", ".join(f"{a['op']} {a['us_per_token']:.1f}" for a in r["ablation"])
    print(line)
PY
}
# gemm TYPE M K [ARGS...]: one vkq bench matmul at n = 512, its variant line and TFLOP/s.
gemm() {
  local t=$1 m=$2 k=$3
  shift 3
  echo "gemm $t m=$m k=$k n=512 $*: $($vkq bench matmul --type $t --m $m --k $k --n 512 --runs 20 "$@" 2>&1 |
    grep -E 'TFLOP|variant=|check|rror' | tr '\n' ' ')"
}
if [ "${1:-}" = summary ]; then
  ab_summary
  exit
fi
