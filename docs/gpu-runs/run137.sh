#!/bin/bash
# Written 2026-12-06 (twenty-fifth session). .gl/bin: the WRAP form of attn_cm2 made by default
# (UNICORN_VK_ATTN_CM2_WRAP=0 turns it off), the test's reference walking the cache by rows.
# (1) Both GPU tests (test-vk-ops timed out at 240 s in run135.sh; now 420 s, line-buffered).
# (2) The attention alone: Qwen2.5 7B's heads at depth 4096 read 1,485 us with the WRAP form made against
# 375 without in run135.sh, though both ran attn_cm2 (that step does not wrap): again, alternating.
# (3) Gemma 3 4B Q4_K at depth 4096 with its real window (1024; the generator gave every Gemma 3 512 before),
# WRAP on (default) and off, llama.cpp beside. (4) Decode with two rows a lane group in the 8-bit mat-vecs
# (UNICORN_VK_MV8=2,2,128; run136.sh's commas split it) on the short-row models.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run137.txt
gen gemma3-4b q4_k & gen qwen2.5-0.5b q4_0 & gen gemma3-1b q4_0 & gen gemma3-270m q4_0 & wait
SECONDS=0; gputests | tee -a $OUT/run137.txt; echo "gputests ${SECONDS}s" | tee -a $OUT/run137.txt
grep -c "NV, attn_cm2" $OUT/o.txt | tee -a $OUT/run137.txt
for e in X=1 UNICORN_VK_ATTN_CM2_WRAP=0 X=1 UNICORN_VK_ATTN_CM2_WRAP=0; do
  echo "== $e"; env $e timeout 60 $B/vk-kernel-bench -r 20 attnpf:28,4,128,512,4096 attnpf:8,4,256,512,4096,1024,1536 \
    attnpf:8,4,256,512,3584,1024,1536 attnpf:4,1,256,512,4096,512,1024 attnpf:28,4,128,512,4096 2>&1 | grep attnpf
done | tee -a $OUT/run137.txt
DEPTHS=4096 models gemma3-4b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_WRAP=0 unicorn-bench:X=1 | tee -a $OUT/run137.txt
for m in qwen2.5-0.5b:q4_0 gemma3-1b:q4_0 gemma3-270m:q4_0; do
  for e in X=1 UNICORN_VK_MV8=2,2,128 X=1 UNICORN_VK_MV8=2,2,128; do
    env $e timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/${m%:*}-${m#*:}.gguf -p 0 -n 128 -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
done | tee -a $OUT/run137.txt
