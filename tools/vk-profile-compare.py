#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Per-kernel GPU times of one prefill step, Unicorn's beside llama.cpp's.

Usage: vk-profile-compare.py UNICORN_LOG LLAMA_LOG [TOKENS]

UNICORN_LOG: stderr of `UNICORN_VK_PROFILE=1 unicorn-bench --backend vulkan -m M -p TOKENS -n 0 -r R`
  (its "vk-profile NAME m=.. n=.. k=.. grid ..: C x AVG us = ..." lines, totals over the process).
LLAMA_LOG: stderr of `GGML_VK_PERF_LOGGER=1 llama-bench -m M -ngl 99 -p TOKENS -n 0 -r R` (a
  "Vulkan Timings:" block per graph; the last one is read).
TOKENS (default 512): the step's token count.

Unicorn's totals are turned into one step's by the number of steps: the calls of its embedding
lookup (get_rows) of TOKENS tokens, which runs once a step. So the profiled run must hold only
steps of TOKENS tokens (-n 0, no -d). Products are listed as both name them: m rows, n tokens, k
columns. Unicorn joins some products (q, k, v; gate and up) and splits others over k (slices of
k columns, then splitk_sum), so rows do not pair one to one: compare the sums of a layer's
products.
"""
import re
import sys

OURS = re.compile(r"^vk-profile (\S+)\s+m=(\d+) n=(\d+) k=(\d+) grid (\S+): (\d+) x ([\d.]+) us = ([\d.]+) ms")
NUM = r"([\d.]+(?:e[+-]?\d+)?)"  # llama.cpp prints large totals as 3.13026e+06
LLAMA = re.compile(r"^(.+?): (\d+) x " + NUM + " us = " + NUM + " us")
SHAPE = re.compile(r"m=(\d+) n=(\d+) k=(\d+)")


def ours(path, tokens):
    rows = []
    for line in open(path, errors="replace"):
        m = OURS.match(line)
        if m:
            name, mm, n, k, grid, calls, avg, tot = m.groups()
            rows.append((name, int(mm), int(n), int(k), grid, int(calls), float(tot) * 1e3))
    steps = sum(r[5] for r in rows if r[0].startswith("get_rows") and r[2] == tokens)
    if not steps:
        sys.exit(f"{path}: no get_rows dispatch of {tokens} tokens (run with -p {tokens} -n 0 and "
                 "UNICORN_VK_PROFILE=1)")
    # (label, calls a step, us a step)
    out = []
    for name, mm, n, k, grid, calls, us in rows:
        label = f"{name} m={mm} n={n} k={k}" if mm or k else f"{name} grid {grid}"
        out.append((label, calls / steps, us / steps))
    return out, steps


def llama(path):
    block = []
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("Vulkan Timings:"):
            block = []
        elif line.startswith("Total time"):
            continue
        else:
            m = LLAMA.match(line)
            if m:
                block.append((m.group(1), int(m.group(2)), float(m.group(4))))
    if not block:
        sys.exit(f"{path}: no 'Vulkan Timings' block (run llama-bench with GGML_VK_PERF_LOGGER=1)")
    return block


def table(title, rows):
    total = sum(r[2] for r in rows)
    prod = sum(r[2] for r in rows if SHAPE.search(r[0]))
    print(f"{title}: {total:.1f} us a step, products {prod:.1f} us ({100 * prod / total:.0f}%)")
    for label, calls, us in sorted(rows, key=lambda r: -r[2]):
        print(f"  {us:10.1f} us {calls:7.1f} x {us / calls:9.2f} us  {label}")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    tokens = int(sys.argv[3]) if len(sys.argv) == 4 else 512
    u, steps = ours(sys.argv[1], tokens)
    table(f"Unicorn ({steps} steps of {tokens} tokens)", u)
    table("llama.cpp (its last graph)", llama(sys.argv[2]))


if __name__ == "__main__":
    main()
