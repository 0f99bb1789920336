#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tools/unicorn-bench as a user runs it: its tests and their names, the
depth option (llama-bench's -d), sequences run together (-s), JSON output, and refusals of bad options;
where a Vulkan device exists, the backend's profile (UNICORN_VK_PROFILE=1)
and tools/vk-profile-compare.py reading it (argv[3]).
Speed is not checked here (figures come from runs on real hardware)."""
import json
import os
import re
import subprocess
import sys
import tempfile

bench, model = sys.argv[1], sys.argv[2]
compare = sys.argv[3] if len(sys.argv) > 3 else None


def run(*args):
    return subprocess.run([bench, "-m", model, "--backend", "cpu", "-t", "1", *args],
                          capture_output=True, text=True, timeout=100)


failed = 0


def check(cond, what):
    global failed
    print(("ok: " if cond else "FAIL: ") + what)
    failed += not cond


r = run("-p", "8", "-n", "4", "-d", "0,16", "-r", "2", "-o", "json")
check(r.returncode == 0, "json run exits 0 (%d: %s)" % (r.returncode, r.stderr.strip()))
rows = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
names = [row["test"] for row in rows]
check(names == ["pp8", "tg4", "pp8 @ d16", "tg4 @ d16"], "tests and names: %s" % names)
check([row["n_depth"] for row in rows] == [0, 0, 16, 16], "n_depth of each row")
check(all(len(row["samples_ts"]) == 2 and min(row["samples_ts"]) > 0 for row in rows),
      "two positive samples a test")
check(all(row["backend"].startswith("cpu") and row["arch"] == "llama" for row in rows), "backend and arch")

# Sequences run together (-s): one prompt stream for all, one token of each a step; t/s counts them all.
r = run("-p", "5", "-n", "3", "-s", "1,3", "-d", "0,4", "-r", "1", "-o", "json")
rows = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
names = [row["test"] for row in rows]
check(r.returncode == 0 and names == ["pp5", "tg3", "pp5 x3", "tg3 x3", "pp5 @ d4", "tg3 @ d4", "pp5 x3 @ d4",
                                      "tg3 x3 @ d4"], "sequences: tests and names: %s (%s)" % (names, r.stderr))
check([row["n_seq"] for row in rows] == [1, 1, 3, 3] * 2, "n_seq of each row")

r = run("-p", "4", "-n", "0", "-d", "8", "-r", "1")
lines = [line for line in r.stdout.splitlines() if line.startswith("| ")]
check(r.returncode == 0 and len(lines) == 3 and "| pp4 @ d8 |" in lines[2],
      "table output: header, rule and one row (%r)" % lines)

for bad in (["-d", "-1"], ["-p", "x"], ["-n", "1,,2"], ["-d", "1048575", "-p", "512"], ["-s", "0"],
            ["-s", "2,257"]):
    r = run(*bad)
    check(r.returncode == 2 and "unicorn-bench:" in r.stderr and not r.stdout.count("| pp"),
          "%s refused with a message (%d: %s)" % (" ".join(bad), r.returncode, r.stderr.strip()))

# The Vulkan backend's profile: GPU time by kernel, and by kernel and shape (products as m rows, n tokens,
# k columns, as llama.cpp's GGML_VK_PERF_LOGGER names them), which the comparison tool reads.
env = dict(os.environ, UNICORN_BACKEND="vulkan", UNICORN_VK_PROFILE="1")
r = subprocess.run([bench, "-m", model, "-p", "16", "-n", "0", "-r", "1"], capture_output=True, text=True,
                   timeout=300, env=env)
# No Vulkan here (a build without it, no loader or no device): only then is the check left out.
if r.returncode != 0 and re.search(r"backend 'vulkan' is not available|cannot create a Vulkan instance|"
                                   r"no Vulkan device( has|$)", r.stderr, re.M):
    print("skip: the Vulkan profile (%s)" % r.stderr.strip().splitlines()[-1:])
else:
    prof = [line for line in r.stderr.splitlines() if line.startswith("vk-profile ")]
    ok = r.returncode == 0 and "vulkan" in r.stdout
    check(ok, "profiled Vulkan run" + ("" if ok else " (%d: %s)" % (r.returncode, r.stderr[-300:])))
    shapes = [re.match(r"vk-profile (\S+)\s+m=(\d+) n=(\d+) k=(\d+) grid \d+x\d+x\d+: (\d+) x", line)
              for line in prof]
    # One embedding lookup a step: the warm-up's steps (by time, at least one) and the run's.
    steps = [int(m.group(5)) for m in shapes if m and m.group(1) == "get_rows_q4_0" and m.group(3) == "16"]
    check(len(steps) == 1 and steps[0] >= 2, "the embedding lookup of 16 tokens, one a step (%s)" % steps)
    check(any(m and m.group(1).startswith("matmul") and m.group(3) == "16" and int(m.group(2)) > 0 and
              int(m.group(4)) > 0 for m in shapes), "a product of 16 tokens with its rows and columns")
    check(any(re.match(r"vk-profile norm\s+[\d.]+ ms\s+[\d.]+% +\d+ dispatches", line) for line in prof),
          "a kernel's total by name")
    if compare:
        with tempfile.TemporaryDirectory() as d:
            ours, theirs = os.path.join(d, "ours.txt"), os.path.join(d, "llama.txt")
            with open(ours, "w") as f:
                f.write(r.stderr)
            with open(theirs, "w") as f:
                f.write("Vulkan Timings:\nMUL_MAT q4_0 m=64 n=16 k=64: 4 x 1.5 us = 6.0 us (1 GFLOPS/s)\n"
                        "RMS_NORM(64,16,1,1): 5 x 1.0 us = 5.0 us\nTotal time: 11.0 us.\n")
            c = subprocess.run([sys.executable, compare, ours, theirs, "16"], capture_output=True, text=True,
                               timeout=60)
            ok = (c.returncode == 0 and "Unicorn (%d steps of 16 tokens)" % steps[0] in c.stdout and
                  "llama.cpp (its last graph): 11.0 us a step, products 6.0 us (55%)" in c.stdout)
            check(ok, "vk-profile-compare.py reads both" +
                  ("" if ok else " (%d: %s%s)" % (c.returncode, c.stdout[:300], c.stderr[-300:])))
            c = subprocess.run([sys.executable, compare, ours, theirs, "17"], capture_output=True, text=True,
                               timeout=60)
            check(c.returncode != 0 and "no get_rows dispatch of 17 tokens" in c.stderr,
                  "vk-profile-compare.py refuses a token count the profile lacks")

print("%d failed" % failed)
sys.exit(1 if failed else 0)
