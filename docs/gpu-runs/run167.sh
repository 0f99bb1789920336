#!/bin/bash
# Written 2026-12-06 (twenty-ninth session), not yet run (~8 min on a fresh machine: split it if the
# call's limit is 600 s). .gl/bin: a build of 4c7a3aa or later.
# (1) Both GPU tests in full on the final build (test-vk-ops attn was cut at 185 s in the twenty-ninth
# session's last call, in the CLAMP=1 f32-rows loop, before the f32-O loop). (2) The rows with the new
# defaults (unchecked attention loads above heads of 64, llama.cpp's split count for heads of 256 over
# long spans) beside llama.cpp: the whole-model figures of the split rule so far are forced counts.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run167.txt
gputests | tee -a $OUT/run167.txt
(gen gemma3-4b q4_k; gen gemma3-1b q4_0; gen qwen2.5-7b q4_k) 
export DEPTHS=0,4096
models gemma3-4b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 unicorn-bench:X=1 | tee -a $OUT/run167.txt
models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 unicorn-bench:X=1 | tee -a $OUT/run167.txt
models qwen2.5-7b:q4_k unicorn-bench:X=1 | tee -a $OUT/run167.txt
echo "total ${SECONDS}s" | tee -a $OUT/run167.txt
