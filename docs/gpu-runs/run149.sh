#!/bin/bash
# Written 2026-12-06 (twenty-seventh session), ~3 min: run148.sh cut to what 321 s of device time allow
# (its machine did not start). .gl/bin: a build with the new split rule for heads of 256 (vk-ops.c
# pf_split; UNICORN_VK_ATTN_PF_SPLITS=auto4 the rule before). The counts it picks and their times (the
# second of two runs a case), then Gemma 3 4B Q4_K mix from 0 and 4,096 positions, new rule against
# auto4, alternating twice, with llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run149.txt
gen gemma3-4b q4_k &
for n in auto auto4; do
  echo "UNICORN_VK_ATTN_PF_SPLITS=$n (4B global @4096, 1B global @4096, 4B @0): $(UNICORN_VK_ATTN_PF_SPLITS=$n timeout 60 \
    $B/vk-kernel-bench -r 20 attnpf:8,4,256,512,4096 attnpf:8,4,256,512,4096 attnpf:4,1,256,512,4096 \
    attnpf:4,1,256,512,4096 attnpf:8,4,256,512,0 attnpf:8,4,256,512,0 2>&1 | grep ^attnpf | awk 'NR % 2 == 0 {print $3 "us/" $(NF-1)}' | tr '\n' ' ')"
done | tee -a $OUT/run149.txt
wait
DEPTHS=0,4096 models gemma3-4b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 | tee -a $OUT/run149.txt
echo "total ${SECONDS}s" | tee -a $OUT/run149.txt
