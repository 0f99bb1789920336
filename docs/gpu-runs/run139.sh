#!/bin/bash
# Written 2026-12-06 (twenty-fifth session), not yet run (~5 min). After run138.sh (its tests), same .gl/bin.
# The prefill attention with O summed in f16 (UNICORN_VK_ATTN_CM2_O16=1, llama.cpp's O_TYPE), at the default
# blocks and at 64 query rows for heads of 256 (UNICORN_VK_ATTN_CM2_SHAPE=64,32, llama.cpp's block; with f32
# O it ran 4x slower, run135.sh): Gemma 3 4B's global layer after 4,096 positions (432 us against llama.cpp's
# 165 a layer), its sliding layer not wrapped and wrapped, the 1B's wrapped and from 0, Qwen2.5 7B's heads of
# 128. Then whole models at depth 4096 with the best form beside the default.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run139.txt
gen gemma3-4b q4_k & gen gemma3-1b q4_0 & wait
for e in X=1 UNICORN_VK_ATTN_CM2_O16=1 UNICORN_VK_ATTN_CM2_O16=1+UNICORN_VK_ATTN_CM2_SHAPE=64,32 X=1 \
    UNICORN_VK_ATTN_CM2_O16=1+UNICORN_VK_ATTN_CM2_SHAPE=64,32; do
  echo "== $e"; env ${e//+/ } timeout 60 $B/vk-kernel-bench -r 20 attnpf:8,4,256,512,4096 \
    attnpf:8,4,256,512,4096,1024,1536 attnpf:8,4,256,512,3584,1024,1536 attnpf:4,1,256,512,4096,512,1024 \
    attnpf:4,1,256,512,0 attnpf:28,4,128,512,4096 2>&1 | grep attnpf
done | tee -a $OUT/run139.txt
export DEPTHS=4096
for m in gemma3-4b:q4_k gemma3-1b:q4_0; do
  models $m unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_O16=1+UNICORN_VK_ATTN_CM2_SHAPE=64,32 \
    unicorn-bench:UNICORN_VK_ATTN_CM2_O16=1 unicorn-bench:X=1 \
    unicorn-bench:UNICORN_VK_ATTN_CM2_O16=1+UNICORN_VK_ATTN_CM2_SHAPE=64,32 | tee -a $OUT/run139.txt
done
