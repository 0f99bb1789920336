#!/bin/bash
# Thirtieth session, call 2 (same machine as run168.sh). The staged products' prefetch sites
# (UNICORN_VK_PF_STAGED bits: 1 gate/up beside o, 2 next q/k/v beside down's 8-bit conversion, 4 next
# q/k/v beside down), tg128 alternating, then the 7B Q4_0's decode profile.
# UNICORN_VK_PF_STAGED existed only in that uncommitted build (not kept: docs/vulkan-sessions.md, "Thirtieth session").
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
tg() { # MODEL ENV...
  local m=$1 e; shift
  for e in "$@"; do
    env ${e//+/ } timeout 120 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 0 -n 128 -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]), " ".join("%.1f" % x for x in d["samples_ts"]))'
  done
}
V="X=1 UNICORN_VK_PF_STAGED=1 UNICORN_VK_PF_STAGED=3 UNICORN_VK_PF_STAGED=5"
for m in qwen2.5-7b-q4_0 qwen2.5-7b-q4_k; do tg $m $V $V; echo "t ${SECONDS}s"; done | tee -a $OUT/run169.txt
tg gemma3-27b-q4_0 X=1 UNICORN_VK_PF_STAGED=5 X=1 UNICORN_VK_PF_STAGED=3 | tee -a $OUT/run169.txt
echo "t ${SECONDS}s" | tee -a $OUT/run169.txt
UNICORN_VK_PROFILE=1 timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/qwen2.5-7b-q4_0.gguf -p 0 -n 64 -r 2 > $OUT/prof7b.txt 2>&1
echo "total ${SECONDS}s" | tee -a $OUT/run169.txt
