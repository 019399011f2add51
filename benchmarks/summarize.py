#!/usr/bin/env python3
"""Prints the markdown table of `vkq bench matmul --json` documents
(concatenated in one file, as benchmarks/h100_kernels.sh writes them)."""
import sys

from json_documents import documents


print("| type | m | k | n | act | variant | config | µs (median) | GB/s | % of copy | TFLOP/s | max_rel_err |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for d in documents(open(sys.argv[1]).read()):
    s, m = d["shape"], d["matmul"]
    print(f"| {s['type']} | {s['m']} | {s['k']} | {s['n']} | {s['act']} | {m['variant']} | {m.get('config', '')} "
          f"| {m['median_us']:.2f} "
          f"| {m['gbps']:.0f} | {m['pct_of_copy']:.1f}% | {m['tflops']:.2f} | {m['max_rel_err']:.2g} |")
