#!/bin/bash
# Thirty-first session: run175.sh cut to what fits the device time left after ten failed starts (~300 s):
# test-vk-ops matmul (the four-group split form on the GPU), the kernels with and without it, and Gemma 3
# 27B Q4_0 tg128 with the default against UNICORN_VK_MV8_SPLIT4=0.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run175a.txt
gen gemma3-27b q4_0 &
(SECONDS=0; timeout 120 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul rc $? ${SECONDS}s") | tee -a $OUT/run175a.txt
grep -m3 "check failed\|four-group\|matmul cases" $OUT/o-mm.txt | tee -a $OUT/run175a.txt
C="mvq:q4_0:5376:21504 mvq:q4_0:3584:18944"
for e in X=1 UNICORN_VK_MV8_SPLIT4=0; do
  echo "$e: $(env $e timeout 30 $B/vk-kernel-bench -r 200 $C 2>&1 | grep -E '^mv' | awk '{print $5}' | tr '\n' ' ')"
done | tee -a $OUT/run175a.txt
wait
for e in X=1 UNICORN_VK_MV8_SPLIT4=0; do
  env $e timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-27b-q4_0.gguf -p 0 -n 128 -r 5 -o json 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("gemma3-27b-q4_0 '"$e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
done | tee -a $OUT/run175a.txt
echo "total ${SECONDS}s" | tee -a $OUT/run175a.txt
