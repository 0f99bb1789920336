#!/bin/bash
# Thirtieth session, call 3 (same machine as run168.sh, run169.sh): run167.sh's second half. The split rule
# of b62d7b6 (llama.cpp's count for heads of 256 over long spans) on whole models: default against
# UNICORN_VK_PF_SPLITS=auto4 (the old rule), beside llama.cpp, from 0 and 4096.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
(gen gemma3-4b q4_k; gen gemma3-1b q4_0)
echo "gen ${SECONDS}s" | tee -a $OUT/run170.txt
export DEPTHS=0,4096
models gemma3-4b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 | tee -a $OUT/run170.txt
echo "t ${SECONDS}s" | tee -a $OUT/run170.txt
models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 | tee -a $OUT/run170.txt
echo "t ${SECONDS}s" | tee -a $OUT/run170.txt
models qwen2.5-7b:q4_k unicorn-bench:X=1 | tee -a $OUT/run170.txt
echo "total ${SECONDS}s" | tee -a $OUT/run170.txt
