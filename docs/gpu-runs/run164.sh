#!/bin/bash
# Twenty-ninth session, after run163.sh: the split count for heads of 256 with the unchecked loads.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
C="attnpf:8,4,256,512,4096 attnpf:4,1,256,512,4096 attnpf:8,4,256,512,3584,1024,1536"
for e in X=1 UNICORN_VK_ATTN_PF_SPLITS=2 UNICORN_VK_ATTN_PF_SPLITS=3 UNICORN_VK_ATTN_PF_SPLITS=4 UNICORN_VK_ATTN_PF_SPLITS=6 UNICORN_VK_ATTN_PF_SPLITS=8 X=1; do
  echo "== vk-kernel-bench -r 20 ($e)"; env $e timeout 60 $B/vk-kernel-bench -r 20 $C 2>&1 | grep ^attnpf
done | tee -a $OUT/run164.txt
