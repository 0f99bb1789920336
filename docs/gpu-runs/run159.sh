#!/bin/bash
# Twenty-ninth session, right after run158.sh on the same machine and build. Heads of 64 read slower
# without bounds checks (0.5B's 101 against 83 us): kernels and whole models for them, the 1B, and
# the 270M Q4_0 question of run157.sh (cut down).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
(gen qwen2.5-0.5b q4_0; gen gemma3-1b q4_0; gen gemma3-270m q4_0) &
C="attnpf:14,2,64,512,4096 attnpf:14,2,64,512,0 attnpf:9,3,64,512,4096 attnpf:4,1,256,512,0 attnpf:4,1,256,512,4096"
for e in X=1 UNICORN_VK_ATTN_CM2_CLAMP=1 X=1 UNICORN_VK_ATTN_CM2_CLAMP=1; do
  echo "== vk-kernel-bench -r 20 ($e)"; env $e timeout 60 $B/vk-kernel-bench -r 20 $C 2>&1 | grep ^attnpf
done | tee -a $OUT/run159.txt
wait
DEPTHS=0,4096 models qwen2.5-0.5b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_CLAMP=1 unicorn-bench:X=1 | tee -a $OUT/run159.txt
echo "t ${SECONDS}s" | tee -a $OUT/run159.txt
DEPTHS=4096 models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_CLAMP=1 unicorn-bench:X=1 | tee -a $OUT/run159.txt
echo "t ${SECONDS}s" | tee -a $OUT/run159.txt
timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-270m-q4_0.gguf -p 512 -n 0 -r 8 >/dev/null 2>&1
W="X=1 UNICORN_VK_CM2_WORD=0"
sweep gemma3-270m-q4_0 $W $W $W $W | tee -a $OUT/run159.txt
echo "total ${SECONDS}s" | tee -a $OUT/run159.txt
