#!/bin/bash
# Written 2026-12-06 (twenty-fifth session) as run140.sh, not run then; run in the twenty-sixth after run141.sh with its .gl/bin (~7 min).
# (1) Gemma 3 270M, not yet in docs/vulkan.md's tables with its own shapes (run136.sh: Q4_0 pp512 60,943 /
# 52,524 against llama.cpp's 65,675): Q4_0 and the issue's Q4_K mix, pp512 and tg128 from an empty context
# with llama.cpp beside, and a kernel-by-kernel profile of both engines (vkcompare).
# (2) Split-K in a whole model: Gemma 3 1B Q4_0's down product (1152 x 6912, 512 tokens) is split in 3;
# in run133.sh's profile its slices, timed one after another, took 3 x 57 us against llama.cpp's whole
# product 91, alone it takes 62 (vk-kernel-bench). Whether the slices overlap in a real step: pp512 with
# the split off (UNICORN_VK_CM2_SPLIT=0) and on, alternating.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run142.txt
gen gemma3-270m q4_0 & gen gemma3-270m q4_k & gen gemma3-1b q4_0 & wait
DEPTHS=0 models gemma3-270m:q4_0 unicorn-bench:X=1 unicorn-bench:X=1 | tee -a $OUT/run142.txt
DEPTHS=0 models gemma3-270m:q4_k unicorn-bench:X=1 unicorn-bench:X=1 | tee -a $OUT/run142.txt
vkcompare gemma3-270m-q4_0; head -40 $OUT/compare-gemma3-270m-q4_0.txt | tee -a $OUT/run142.txt
sweep gemma3-1b-q4_0 X=1 UNICORN_VK_CM2_SPLIT=0 X=1 UNICORN_VK_CM2_SPLIT=0 | tee -a $OUT/run142.txt
# (3) f16 O (the default since run141.sh's build) against f32, and at 64 x 32 (faster alone after 4,096
# positions in run141.sh, slower from 0), for heads of 64: Qwen2.5 0.5B Q4_0 at depth 4096.
gen qwen2.5-0.5b q4_0
DEPTHS=4096 models qwen2.5-0.5b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_O16=0 \
  unicorn-bench:UNICORN_VK_ATTN_CM2_SHAPE=64,32 unicorn-bench:X=1 | tee -a $OUT/run142.txt
