#!/bin/bash
# Written 2026-12-05 (twenty-first session), not yet run (no device was lent that session). .gl/bin:
# that session's build (the profile by kernel and shape, UNICORN_VK_CM2_RULE=llama). In one call (~9 min):
# (1) both GPU tests of that build, beside the models' generation (test-vk-ops now also runs the NV
# kernel's wide tile split over k, as the llama rule takes it);
# (2) the Q4_K prefill gap (run118.sh: Gemma 3 4B Q4_K pp512 0.84x of llama.cpp, Q4_0 0.99x): the NV
# product kernel's knobs on 4B Q4_K pp512 from an empty context, the likeliest three on 7B Q4_K, llama.cpp's
# tile and split choice (UNICORN_VK_CM2_RULE=llama) on 4B Q4_0 too, llama.cpp beside (common.sh's sweep);
# (3) one 4B Q4_K prefill step's GPU time per kernel and shape from both engines, side by side
# (common.sh's vkcompare). It replaces run125.sh (that sweep less its knobs that do nothing for the
# K-quants, UNROLL and BK=64).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run126.txt
gen gemma3-4b q4_k & gen qwen2.5-7b q4_k & gen gemma3-4b q4_0 &
gputests | tee -a $OUT/run126.txt
wait
{ sweep gemma3-4b-q4_k X=1 UNICORN_VK_CM2_RULE=llama UNICORN_VK_CM2_PIPE=1 UNICORN_VK_CM2_BK=32 UNICORN_VK_CM2_BN=256 \
        UNICORN_VK_CM2_WIDE=0 UNICORN_VK_CM2_ACC16=0 UNICORN_VK_CM2_SPLIT=0 UNICORN_VK_CM2_Q6K=0 X=1
  sweep qwen2.5-7b-q4_k X=1 UNICORN_VK_CM2_RULE=llama UNICORN_VK_CM2_PIPE=1
  sweep gemma3-4b-q4_0 X=1 UNICORN_VK_CM2_RULE=llama; } | tee -a $OUT/run126.txt
# The products the rule changes, alone: 4B gate/up, down, o (Q4_K and Q4_0), 27B o, down.
rulebench mm:q4_k:10240:2560:512 mm:q4_k:2560:10240:512 mm:q4_k:2560:2048:512 mm:q4_0:10240:2560:512 \
  mm:q4_0:2560:10240:512 mm:q4_0:5376:4096:512 mm:q4_0:5376:21504:512 | tee -a $OUT/run126.txt
vkcompare gemma3-4b-q4_k
{ head -30 $OUT/compare-gemma3-4b-q4_k.txt; grep -A30 '^llama.cpp' $OUT/compare-gemma3-4b-q4_k.txt | head -30; } |
  tee -a $OUT/run126.txt
