#!/bin/bash
# Typed as one device command on 2026-12-06 (twenty-sixth session) right after run139.sh, same machine and
# .gl/bin (5d252ae): Qwen2.5 7B Q4_K pp512 from depths 0 and 4096 with f32 O (the default then), f16 O,
# and f16 O with 64 query rows x 32 positions (llama.cpp's block for heads of 128), then the kernel alone
# for heads of 128. Lines: run138-results.txt.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
gen qwen2.5-7b q4_k
for e in X=1 UNICORN_VK_ATTN_CM2_O16=1 UNICORN_VK_ATTN_CM2_O16=1+UNICORN_VK_ATTN_CM2_SHAPE=64,32 X=1 \
    UNICORN_VK_ATTN_CM2_O16=1+UNICORN_VK_ATTN_CM2_SHAPE=64,32; do
  env ${e//+/ } timeout 90 $B/unicorn-bench --backend vulkan -m /tmp/qwen2.5-7b-q4_k.gguf -p 512 -n 0 -d 0,4096 -r 5 \
    -o json 2>/dev/null | python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("qwen7b '$e'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
done
for e in X=1 UNICORN_VK_ATTN_CM2_O16=1+UNICORN_VK_ATTN_CM2_SHAPE=64,32; do
  env ${e//+/ } $B/vk-kernel-bench -r 20 attnpf:28,4,128,512,4096 attnpf:28,4,128,512,0 attnpf:32,8,128,512,4096 \
    attnpf:32,16,128,512,4096,1024,1536 2>&1 | tail -4
done
