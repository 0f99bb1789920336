#!/bin/bash
# Thirtieth session, call 7 (same machine as run173.sh). Gemma 3 27B Q4_0's down projection read 27.5 us
# with four groups of 32 lanes a row against 30.6-30.7 with two (run173.sh): tg128 of the model with
# UNICORN_VK_MV8_SPLIT=4,16384 (four groups from 16384 columns: only that product) against the default.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
gen gemma3-27b q4_0; echo "gen ${SECONDS}s"
for e in X=1 UNICORN_VK_MV8_SPLIT=4,16384 X=1 UNICORN_VK_MV8_SPLIT=4,16384; do
  env $e timeout 100 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-27b-q4_0.gguf -p 0 -n 128 -r 5 -o json 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("gemma3-27b-q4_0 '"$e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  echo "t ${SECONDS}s"
done | tee -a $OUT/run174.txt
