#!/bin/bash
# Twenty-ninth session, last call: the split rule of the committed build on the device (expect 2, 4, 2, 4
# splits on the first four cases), against auto4.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
C="attnpf:8,4,256,512,4096 attnpf:4,1,256,512,4096 attnpf:8,4,256,512,4096,1024,1536 attnpf:8,4,256,512,0 attnpf:4,1,256,512,0"
for e in X=1 UNICORN_VK_ATTN_PF_SPLITS=auto4 X=1; do
  echo "== vk-kernel-bench -r 20 ($e)"; env $e timeout 50 $B/vk-kernel-bench -r 20 $C 2>&1 | grep ^attnpf
done | tee -a $OUT/run166.txt
