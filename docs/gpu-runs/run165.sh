#!/bin/bash
# Twenty-ninth session, after run164.sh: llama.cpp's split count (2 x 132 / workgroups: 2 for the 4B's
# 128, 4 for the 1B's 64) forced on every layer of whole models, against the rule.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
DEPTHS=0,4096 models gemma3-4b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=2 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=2 | tee -a $OUT/run165.txt
echo "t ${SECONDS}s" | tee -a $OUT/run165.txt
DEPTHS=0,4096 models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=4 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=4 | tee -a $OUT/run165.txt
echo "total ${SECONDS}s" | tee -a $OUT/run165.txt
