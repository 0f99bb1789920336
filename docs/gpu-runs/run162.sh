#!/bin/bash
# Twenty-ninth session, after run161.sh (same machine; the build with the rule): 7B Q4_0 and the 4B Q4_K
# at depth 4096 again, default against every load checked.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
gen qwen2.5-7b q4_0
DEPTHS=0,4096 models qwen2.5-7b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_CLAMP=1 | tee -a $OUT/run162.txt
echo "t ${SECONDS}s" | tee -a $OUT/run162.txt
DEPTHS=4096 models gemma3-4b:q4_k unicorn-bench:UNICORN_VK_ATTN_CM2_CLAMP=1 unicorn-bench:X=1 | tee -a $OUT/run162.txt
echo "total ${SECONDS}s" | tee -a $OUT/run162.txt
