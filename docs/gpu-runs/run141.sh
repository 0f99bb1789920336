#!/bin/bash
# Written 2026-12-06 (twenty-sixth session). .gl/bin: the build that makes f16 O the NV prefill attention's
# default (UNICORN_VK_ATTN_CM2_O16=0: f32) with 64 x 32 blocks for heads of 128 (BUILT_FROM says which).
# (1) Both GPU tests (test-vk-ops now runs every NV case on f16 O, bound 1e-4, and the f32 form after them).
# (2) The kernel alone: heads of 64 (Qwen2.5 0.5B, SmolLM2; still 64 x 64) and 128 with f32 O, the default, and
# f16 O at 64 x 32. (3) Whole models beside llama.cpp: Qwen2.5 7B Q4_K and Gemma 3 1B Q4_0 at depths 0 and 4096,
# the default and f32 O.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run141.txt
(gen qwen2.5-7b q4_k; gen gemma3-1b q4_0) &
SECONDS=0; gputests | tee -a $OUT/run141.txt; echo "gputests ${SECONDS}s" | tee -a $OUT/run141.txt
grep "O16=0\|d=128\|d=64" $OUT/o.txt | grep -v "KHR\|attn_cm," | cut -c1-200 | tail -24 | tee -a $OUT/run141.txt
for e in UNICORN_VK_ATTN_CM2_O16=0 X=1 UNICORN_VK_ATTN_CM2_SHAPE=64,32 UNICORN_VK_ATTN_CM2_O16=0 X=1; do
  echo "== $e"; env $e timeout 60 $B/vk-kernel-bench -r 20 attnpf:14,2,64,512,4096 attnpf:14,2,64,512,0 \
    attnpf:9,3,64,512,4096 attnpf:28,4,128,512,4096 attnpf:32,8,128,512,4096 2>&1 | grep attnpf
done | tee -a $OUT/run141.txt
wait
DEPTHS=0,4096 models qwen2.5-7b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_O16=0 unicorn-bench:X=1 | tee -a $OUT/run141.txt
DEPTHS=0,4096 models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_O16=0 | tee -a $OUT/run141.txt
