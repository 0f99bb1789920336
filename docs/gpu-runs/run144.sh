#!/bin/bash
# Written 2026-12-06 (twenty-sixth session), not yet run (~3 min). .gl/bin: any build from 2621ca3 on.
# Gemma 3 4B's global layer after 4,096 positions (heads 8/4 of 256, 512 tokens) takes the NV prefill
# attention 398 us against llama.cpp's 165 (run133.sh's profile; by vk-kernel-bench's count of operations
# ~110 TFLOP/s there, 46 here, while heads of 128 now run at 121). By its source (ggml-vulkan.cpp, the
# split_k of its flash attention; read, not observed), llama.cpp splits that step's positions about 4
# ways (2 x 132 multiprocessors / 64 workgroups of 64 rows); ours, by pf_split's rule, 5 ways at 32 rows
# (640 workgroups) and 8 at 64 (512), as vk-kernel-bench prints. Does the split count, not the block,
# make the gap? The kernel alone over forced splits (UNICORN_VK_ATTN_PF_SPLITS=N) at 32 x 32 (the
# default), 64 x 32 (llama.cpp's) and 32 x 16 (327 us in run143-results.txt (e)), with the 1B's global
# layer (4/1 heads) beside.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run144.txt
for s in X=1 UNICORN_VK_ATTN_CM2_SHAPE=64,32 UNICORN_VK_ATTN_CM2_SHAPE=32,16; do
  for n in auto 1 2 3 4 5 8; do
    echo "== $s UNICORN_VK_ATTN_PF_SPLITS=$n"
    env $s UNICORN_VK_ATTN_PF_SPLITS=$n timeout 60 $B/vk-kernel-bench -r 20 attnpf:8,4,256,512,4096 \
      attnpf:4,1,256,512,4096 2>&1 | grep attnpf
  done
done | tee -a $OUT/run144.txt
