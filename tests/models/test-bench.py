#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tools/unicorn-bench as a user runs it: its tests and their names, the
depth option (llama-bench's -d), JSON output, and refusals of bad options.
Speed is not checked here (figures come from runs on real hardware)."""
import json
import subprocess
import sys

bench, model = sys.argv[1], sys.argv[2]


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

r = run("-p", "4", "-n", "0", "-d", "8", "-r", "1")
lines = [line for line in r.stdout.splitlines() if line.startswith("| ")]
check(r.returncode == 0 and len(lines) == 3 and "| pp4 @ d8 |" in lines[2],
      "table output: header, rule and one row (%r)" % lines)

for bad in (["-d", "-1"], ["-p", "x"], ["-n", "1,,2"], ["-d", "1048575", "-p", "512"]):
    r = run(*bad)
    check(r.returncode == 2 and "unicorn-bench:" in r.stderr and not r.stdout.count("| pp"),
          "%s refused with a message (%d: %s)" % (" ".join(bad), r.returncode, r.stderr.strip()))

print("%d failed" % failed)
sys.exit(1 if failed else 0)
