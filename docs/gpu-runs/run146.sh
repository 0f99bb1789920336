#!/bin/bash
# Written 2026-12-06 (twenty-seventh session), ~6 min. .gl/bin: a build where UNICORN_VK_CM2_WORD has bits
# 1 (Q4_0) and 2 (Q8_0). run145.sh: the word-wise decode took the 7B's Q4_0 product 430 -> 410 us,
# lost on the K-quants (dropped) and on the 1B Q8_0's pp512 (-1-2%). So: Q4_0 alone on whole models,
# alternating. First run144.sh's question, cut down: Gemma 3 4B's global layer after 4,096 positions
# (398 us against llama.cpp's 165) with the split count forced, at 32 x 32 (ours) and 64 x 32.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run146.txt
(gen qwen2.5-7b q4_0; gen gemma3-4b q4_0; gen gemma3-1b q4_0) &
for s in X=1 UNICORN_VK_ATTN_CM2_SHAPE=64,32; do
  for n in auto 1 2 3 4 5 8; do
    echo "$s UNICORN_VK_ATTN_PF_SPLITS=$n: $(env $s UNICORN_VK_ATTN_PF_SPLITS=$n timeout 60 $B/vk-kernel-bench -r 20 \
      attnpf:8,4,256,512,4096 attnpf:4,1,256,512,4096 2>&1 | grep ^attnpf | awk '{print $3 "us/" $(NF-1)}' | tr '\n' ' ')"
  done
done | tee -a $OUT/run146.txt
wait
export DEPTHS=0
models qwen2.5-7b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=1 | tee -a $OUT/run146.txt
models gemma3-4b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=1 | tee -a $OUT/run146.txt
models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=1 | tee -a $OUT/run146.txt
echo "total ${SECONDS}s" | tee -a $OUT/run146.txt
