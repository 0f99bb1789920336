#!/bin/bash
# Twenty-ninth session, right after run159.sh (same machine and build): more rows with and without the
# unchecked loads.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
(gen gemma3-4b q4_0; gen llama3-8b q4_k) &
sweep gemma3-4b-q4_k X=1 UNICORN_VK_ATTN_CM2_CLAMP=1 X=1 UNICORN_VK_ATTN_CM2_CLAMP=1 | tee -a $OUT/run160.txt
sweep gemma3-1b-q4_0 X=1 UNICORN_VK_ATTN_CM2_CLAMP=1 X=1 UNICORN_VK_ATTN_CM2_CLAMP=1 | tee -a $OUT/run160.txt
wait
DEPTHS=0,4096 models gemma3-4b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_CLAMP=1 | tee -a $OUT/run160.txt
echo "t ${SECONDS}s" | tee -a $OUT/run160.txt
DEPTHS=4096 models llama3-8b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_CLAMP=1 | tee -a $OUT/run160.txt
echo "total ${SECONDS}s" | tee -a $OUT/run160.txt
