#!/bin/bash
# Twenty-ninth session, after run160.sh: heads of 64 keep the checked loads (the rule), =0 forces them off.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
C="attnpf:14,2,64,512,4096 attnpf:9,3,64,512,4096 attnpf:28,4,128,512,4096 attnpf:8,4,256,512,4096"
for e in X=1 UNICORN_VK_ATTN_CM2_CLAMP=0 UNICORN_VK_ATTN_CM2_CLAMP=1; do
  echo "== vk-kernel-bench -r 20 ($e)"; env $e timeout 60 $B/vk-kernel-bench -r 20 $C 2>&1 | grep ^attnpf
done | tee -a $OUT/run161.txt
(gen qwen2.5-0.5b q4_0)
sweep qwen2.5-0.5b-q4_0 X=1 UNICORN_VK_ATTN_CM2_CLAMP=0 X=1 UNICORN_VK_ATTN_CM2_CLAMP=0 | tee -a $OUT/run161.txt
echo "total ${SECONDS}s" | tee -a $OUT/run161.txt
