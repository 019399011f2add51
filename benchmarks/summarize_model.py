#!/usr/bin/env python3
"""Markdown tables of `vkq bench model --json` documents (concatenated in
one file, as benchmarks/h100_model.sh writes them): throughput and roofline,
memory planned against measured, and each run's decode and prefill
breakdowns."""
import sys

from json_documents import documents


docs = list(documents(open(sys.argv[1]).read()))


def name(d):
    """The model, and the decode epilogue setting where the run names one."""
    if "epilogues" not in d:
        return d["model"]
    if d.get("tiled_attention") is False:
        return f"{d['model']}, prefill attention per token"
    if not d["epilogues"]:
        return f"{d['model']}, separate norm/SwiGLU"
    tuned = "".join(f", {k} {d[k]}" for k in ("block_wg", "block_loads") if d.get(k))
    if d.get("block_stage"):
        tuned += ", x staged"
    if d.get("chain_unstaged"):
        tuned += ", chain x unstaged"
    return f"{d['model']}, norm/SwiGLU in the GEMVs{tuned}"


print("| model | prompt | gen | pp t/s | tg t/s | µs/token | roofline t/s | % of roofline | dispatches/token | chained | decode matmul |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for d in docs:
    r = d["result"]
    print(f"| {name(d)} | {d['prompt']} | {d['gen']} | {r['prompt_tokens_per_s']:.1f} | {r['gen_tokens_per_s']:.1f} "
          f"| {r['decode_us_per_token']:.1f} | {r['roofline_tokens_per_s']:.1f} | {100 * r['decode_roofline_share']:.1f}% "
          f"| {r['dispatches_per_token']} | {r.get('chained_per_token', 0)} ({d.get('chain', '-')}) | {r['matmul_variant_decode']} |")
print()
print("| model | context | planned peak MiB | measured peak MiB | difference |")
print("|---|---|---|---|---|")
for d in docs:
    m = d["memory"]
    p, q = m["planned_peak"] / 2**20, m["measured_peak"] / 2**20
    print(f"| {d['model']} | {d['prompt']} | {p:.1f} | {q:.1f} | {100 * (q - p) / p:+.2f}% |")
for d in docs:
    r = d["result"]
    if not r["breakdown"]:
        continue
    print()
    print(f"Decode breakdown, {name(d)}: {r['gpu_us_per_token']:.1f} µs of GPU time in {r['decode_us_per_token']:.1f} µs per token")
    print()
    print("| op | µs/token | share of wall |")
    print("|---|---|---|")
    for o in r["breakdown"]:
        print(f"| {o['op']} | {o['us_per_token']:.2f} | {100 * o['us_per_token'] / r['decode_us_per_token']:.1f}% |")
for d in docs:
    r = d["result"]
    if not r.get("prefill_breakdown"):
        continue
    wall = 1e6 * d["prompt"] / r["prompt_tokens_per_s"]
    print()
    print(f"Prefill breakdown, {name(d)}, {d['prompt']} tokens: {r['prefill_gpu_us']:.0f} µs of GPU time in {wall:.0f} µs of wall time (median run)")
    print()
    print("| op | µs per prefill | share of wall |")
    print("|---|---|---|")
    for o in r["prefill_breakdown"]:
        print(f"| {o['op']} | {o['us']:.1f} | {100 * o['us'] / wall:.1f}% |")
