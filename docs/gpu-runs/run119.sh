#!/bin/bash
# Written 2026-12-05 (twentieth session): attn_cm2.comp (the NV prefill attention) on by default, the
# mask only on blocks that cross a row's edge, exp2 weights, and the split over positions on it too
# (include/attn_pf_split.glsl, shared with attn_cm.comp). .gl/bin: that working tree;
# unicorn-bench-base and vk-kernel-bench-old: 0a270d4 (run116.sh-run118.sh's .gl/bin; its attn_cm2
# only with UNICORN_VK_ATTN_CM2=1). Tests, the prefill attention kernels, whole models.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run119.txt
gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
{ timeout 90 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $?: $(grep -m1 'check failed' $OUT/m.txt | cut -c1-240)"
  grep "split in 2" $OUT/m.txt | head -3
  timeout 240 $B/test-vk-ops > $OUT/o.txt 2>&1; echo "test-vk-ops rc $?: $(grep -m1 'check failed' $OUT/o.txt | cut -c1-240)"
  grep "attn_cm2.*splits" $OUT/o.txt | grep -v " 1 splits" | head -4; } | tee -a $OUT/run119.txt
wait
C="attnpf:28,4,128,512 attnpf:28,4,128,512,3584 attnpf:4,1,256,512 attnpf:4,1,256,512,3584 attnpf:32,16,128,512,3584 attnpf:8,4,256,512,3584"
for be in vk-kernel-bench-old:UNICORN_VK_ATTN_CM2=1 vk-kernel-bench:X=1 vk-kernel-bench:UNICORN_VK_ATTN_PF_SPLITS=1 \
          vk-kernel-bench:UNICORN_VK_ATTN_PF_SPLITS=2 vk-kernel-bench:UNICORN_VK_ATTN_PF_SPLITS=4 vk-kernel-bench:UNICORN_VK_ATTN_CM2=0; do
  b=${be%%:*} e=${be#*:}
  echo "$b $e: $(env $e timeout 60 $B/$b -r 50 $C 2>&1 | grep '^attnpf' | awk '{print $3, $(NF-1)}' | tr -d '(' | tr '\n' ' ')"
done | tee -a $OUT/run119.txt
models qwen2.5-7b:q4_0 unicorn-bench-base:UNICORN_VK_ATTN_CM2=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=1 | tee -a $OUT/run119.txt
models gemma3-1b:q4_0 unicorn-bench-base:UNICORN_VK_ATTN_CM2=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=1 | tee -a $OUT/run119.txt
