#!/bin/bash
# Written 2026-12-05 (twentieth session), not yet run: the Q4_K prefill gap on the H100 (run118.sh:
# Gemma 3 4B Q4_K pp512 13,934 t/s against llama.cpp's 16,672, 0.84x; Q4_0 at the same shapes 0.99x).
# The NV product kernel's knobs, each measured only on the H200 so far (docs/vulkan.md), on 4B and 7B
# Q4_K from an empty context, llama.cpp beside; then a profile of 4B Q4_K's prefill (per-pipeline
# GPU times at exit). .gl/bin as run124.sh's.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run125.txt
gen gemma3-4b q4_k & gen qwen2.5-7b q4_k & wait
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
for m in gemma3-4b-q4_k qwen2.5-7b-q4_k; do
  for e in X=1 UNICORN_VK_CM2_UNROLL=512 UNICORN_VK_CM2_PIPE=1 UNICORN_VK_CM2_BK=64 UNICORN_VK_CM2_BN=256 \
           UNICORN_VK_CM2_WIDE=0 UNICORN_VK_CM2_ACC16=0 UNICORN_VK_CM2_SPLIT=0; do
    env $e timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 8 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 110 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 -p 512 -n 0 -r 20 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m"' llama.cpp pp512 (median of the last 10 of 20)", "%.1f" % s.median(d["samples_ts"][10:]))'
done | tee -a $OUT/run125.txt
UNICORN_VK_PROFILE=1 timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-4b-q4_k.gguf -p 512 -n 0 -r 3 \
  > $OUT/profile-4b-q4_k.txt 2>&1; tail -40 $OUT/profile-4b-q4_k.txt | tee -a $OUT/run125.txt
