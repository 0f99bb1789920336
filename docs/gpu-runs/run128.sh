#!/bin/bash
# Written 2026-12-05 (twenty-second session) for a short device budget (machines were scarce: five starts
# failed before it): the first priorities of run126.sh and run127.sh in one call (~6 min, estimated). .gl/bin: the
# build of 3380d3d. (1) both GPU tests of that build, beside the models' generation; (2) llama.cpp's tile
# and split choice (UNICORN_VK_CM2_RULE=llama) and the Q4_K head prefetch (UNICORN_VK_CM2_PIPE=1) on the
# rows the rule changes (Gemma 3 4B Q4_K, 27B Q4_0) and on 7B Q4_K, pp512 from an empty context, llama.cpp
# beside (common.sh's sweep); (3) the products the rule changes, alone, under both rules; (4) one 4B Q4_K
# prefill step per kernel and shape from both engines (vkcompare); f16 products at the rule's shapes
# (added 2026-12-06), and the weights decoded to f16 ahead of the product (UNICORN_VK_CM2_DQ16, added
# 2026-12-06: the whole-model test, then in the sweeps).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run128.txt
gen gemma3-4b q4_k & gen gemma3-27b q4_0 & gen qwen2.5-7b q4_k &
gputests | tee -a $OUT/run128.txt
UNICORN_VK_CM2_DQ16=1024 timeout 90 $B/test-vk-models > $OUT/m-dq16.txt 2>&1
echo "test-vk-models (UNICORN_VK_CM2_DQ16=1024) rc $?: $(grep -m1 'check failed\|SKIP' $OUT/m-dq16.txt | cut -c1-240)" |
  tee -a $OUT/run128.txt
wait
{ sweep gemma3-4b-q4_k X=1 UNICORN_VK_CM2_RULE=llama UNICORN_VK_CM2_PIPE=1 UNICORN_VK_CM2_DQ16=1024 X=1 \
        UNICORN_VK_CM2_RULE=llama UNICORN_VK_CM2_DQ16=1024
  sweep gemma3-27b-q4_0 X=1 UNICORN_VK_CM2_RULE=llama UNICORN_VK_CM2_DQ16=1024 X=1
  sweep qwen2.5-7b-q4_k X=1 UNICORN_VK_CM2_PIPE=1 UNICORN_VK_CM2_DQ16=1024; } | tee -a $OUT/run128.txt
rulebench mm:q4_k:10240:2560:512 mm:q4_k:2560:10240:512 mm:q4_k:2560:2048:512 mm:q4_0:5376:4096:512 \
  mm:q4_0:5376:21504:512 | tee -a $OUT/run128.txt
# f16 weights at the same shapes: if the NV kernel runs them much faster than Q4_K, decoding the weights
# to f16 first (a pass of ~20-40 us a matrix) and multiplying f16 could beat decoding inside the product.
echo "== vk-kernel-bench -r 20 f16" | tee -a $OUT/run128.txt
timeout 60 $B/vk-kernel-bench -r 20 mm:f16:10240:2560:512 mm:f16:2560:10240:512 mm:f16:2560:2048:512 \
  mm:f16:5376:21504:512 2>&1 | tail -4 | tee -a $OUT/run128.txt
echo "== vk-kernel-bench -r 20 (UNICORN_VK_CM2_DQ16=1024: decode to f16, barrier, f16 product)" | tee -a $OUT/run128.txt
UNICORN_VK_CM2_DQ16=1024 timeout 60 $B/vk-kernel-bench -r 20 mm:q4_k:10240:2560:512 mm:q4_k:2560:10240:512 \
  mm:q4_k:2560:2048:512 mm:q4_0:5376:21504:512 2>&1 | tail -4 | tee -a $OUT/run128.txt
vkcompare gemma3-4b-q4_k
{ head -30 $OUT/compare-gemma3-4b-q4_k.txt; grep -A30 '^llama.cpp' $OUT/compare-gemma3-4b-q4_k.txt | head -30; } |
  tee -a $OUT/run128.txt
