#!/bin/bash
# Written 2026-12-05 (twentieth session), after run119.sh-run120.sh (ran as a command line: gemma3-4b
# and gemma3-1b pp512 at depth 4096 under UNICORN_VK_ATTN_PF_SPLITS=1/2/4/8, DEPTHS=4096 models).
# .gl/bin: the NV kernel splits only where its grid is under one workgroup a multiprocessor, and
# test_split_prefill's bound is twice the unsplit model's distance from exact. Tests, kernels, models.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run121.txt
gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
{ timeout 90 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $?: $(grep -m1 'check failed' $OUT/m.txt | cut -c1-240)"
  grep "split in 2" $OUT/m.txt | head -7; } | tee -a $OUT/run121.txt
wait
C="attnpf:28,4,128,512 attnpf:28,4,128,512,3584 attnpf:4,1,256,512 attnpf:4,1,256,512,3584 attnpf:32,16,128,512,3584 attnpf:8,4,256,512,3584"
echo "vk-kernel-bench: $(timeout 60 $B/vk-kernel-bench -r 50 $C 2>&1 | grep '^attnpf' | awk '{print $3, $(NF-1)}' | tr '\n' ' ')" | tee -a $OUT/run121.txt
models qwen2.5-7b:q4_0 unicorn-bench:X=1 | tee -a $OUT/run121.txt
models gemma3-1b:q4_0 unicorn-bench:X=1 | tee -a $OUT/run121.txt
