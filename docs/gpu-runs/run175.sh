#!/bin/bash
# Thirtieth session: written, not run (the session's device time ran out); for the next session's first call.
# .gl/bin: 4b2e4ff or later (the four-group split form for long rows past one wave, on by default where the
# multiprocessor count is known). (1) test-vk-ops matmul: every 8-bit mat-vec case also in that form (forced at
# every size), and test-vk-models with its quantized fixtures. (2) Gemma 3 27B Q4_0 tg128 with the default
# against UNICORN_VK_MV8_SPLIT4=0 (run174.sh measured it through UNICORN_VK_MV8_SPLIT=4,16384). (3) Why the
# staged GLU reads at 2.4 TB/s where the output product reaches 2.8-3.1 (run172.sh): one matrix of its rows,
# both as one matrix of twice the rows, its unstaged form on 8-bit rows, and the staged form.
# (4) Thirty-first session: Llama 3 8B Q4_K mix, the one prefill row under 1.0x (run171.sh), kernel by kernel
# beside llama.cpp (vkcompare), to tell where its 3-4% goes.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run175.txt
gen gemma3-27b q4_0 & gen llama3-8b q4_k &
(SECONDS=0; timeout 200 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul rc $? ${SECONDS}s") | tee -a $OUT/run175.txt
grep -m3 "check failed\|four-group\|matmul cases" $OUT/o-mm.txt | tee -a $OUT/run175.txt
UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 180 $B/test-vk-models > $OUT/m.txt 2>&1
echo "test-vk-models rc $?: $(grep -m1 'check failed\|SKIP\|quantized fixtures' $OUT/m.txt | cut -c1-200)" | tee -a $OUT/run175.txt
C="mvq:q4_0:5376:21504 mvq:q4_0:3584:18944 mvq:q4_0:18944:3584 mvq:q4_0:37888:3584 gluq:q4_0:18944:3584 glus:q4_0:18944:3584"
for e in X=1 UNICORN_VK_MV8_SPLIT4=0 X=1; do
  echo "$e: $(env $e timeout 60 $B/vk-kernel-bench -r 200 $C 2>&1 | grep -E '^(mv|glu)' | awk '{print $5}' | tr '\n' ' ')"
done | tee -a $OUT/run175.txt
wait
for e in X=1 UNICORN_VK_MV8_SPLIT4=0 X=1 UNICORN_VK_MV8_SPLIT4=0; do
  env $e timeout 100 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-27b-q4_0.gguf -p 0 -n 128 -r 5 -o json 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("gemma3-27b-q4_0 '"$e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
done | tee -a $OUT/run175.txt
vkcompare llama3-8b-q4_k; head -60 $OUT/compare-llama3-8b-q4_k.txt | tee -a $OUT/run175.txt
echo "total ${SECONDS}s" | tee -a $OUT/run175.txt
