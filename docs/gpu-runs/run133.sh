#!/bin/bash
# Written 2026-12-06 (twenty-fourth session). .gl/bin: 4d5a8ad (the prefill norms with registers for the
# model's rows by default, +2-6% in run132.sh; UNICORN_VK_CM2_WIDE_SHORT=1). ~6-7 min.
# (1) Both GPU tests of the build. (2) UNICORN_VK_CM2_WIDE_SHORT=1 on the models with short rows where it
# changes a tile (Qwen2.5 0.5B gate/up 4864 x 896, Gemma 3 1B gate/up 6912 x 1152: wide in one round
# instead of narrow in two, 16% faster products alone in run132.sh), pp512 alternating, llama.cpp beside.
# (3) Per-kernel profiles: Gemma 3 1B Q4_0 pp512 beside llama.cpp (vkcompare; 0.92x llama.cpp), and
# Gemma 3 4B Q4_K pp512 at depth 4096 (0.82x llama.cpp in run124.sh), both engines' raw logs.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run133.txt
for r in qwen2.5-0.5b:q4_0 gemma3-1b:q4_0 gemma3-1b:q8_0 gemma3-4b:q4_k; do gen ${r%:*} ${r#*:} & done; wait
gputests | tee -a $OUT/run133.txt
for m in qwen2.5-0.5b-q4_0 gemma3-1b-q4_0 gemma3-1b-q8_0; do
  sweep $m X=1 UNICORN_VK_CM2_WIDE_SHORT=1 X=1 UNICORN_VK_CM2_WIDE_SHORT=1 UNICORN_VK_NORM_ROWS=0 |
    tee -a $OUT/run133.txt
done
vkcompare gemma3-1b-q4_0
UNICORN_VK_PROFILE=1 timeout 90 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-4b-q4_k.gguf -p 512 -n 0 \
  -d 4096 -r 2 > $OUT/profile-d4096-gemma3-4b-q4_k.txt 2>&1
GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/gemma3-4b-q4_k.gguf \
  -ngl 99 -p 512 -n 0 -d 4096 -r 2 > $OUT/llama-perf-d4096-gemma3-4b-q4_k.txt 2>&1
xz -9 $OUT/llama-perf-d4096-gemma3-4b-q4_k.txt; ls -la $OUT
