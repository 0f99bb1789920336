#!/bin/bash
# Twenty-ninth session, after run162.sh: heads of 256 at llama.cpp's 64 x 32 blocks now that full blocks load unchecked.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
C="attnpf:8,4,256,512,4096 attnpf:8,4,256,512,3584,1024,1536 attnpf:4,1,256,512,4096 attnpf:4,1,256,512,4096,512,1024 attnpf:8,4,256,512,0"
for e in X=1 UNICORN_VK_ATTN_CM2_SHAPE=64,32 UNICORN_VK_ATTN_CM2_SHAPE=32,16 X=1 UNICORN_VK_ATTN_CM2_SHAPE=64,32 UNICORN_VK_ATTN_CM2_SHAPE=32,16; do
  echo "== vk-kernel-bench -r 20 ($e)"; env $e timeout 60 $B/vk-kernel-bench -r 20 $C 2>&1 | grep ^attnpf
done | tee -a $OUT/run163.txt
