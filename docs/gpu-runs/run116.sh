#!/bin/bash
# Written 2026-12-05 (nineteenth session), not yet run: (1) attn_cm.comp fetches f16 cache rows as f16
# again (62cba7c's form, which passed on the H200 in run111.sh as test-vk-ops-A; the eighteenth session
# had reverted it for a fault that was the split's shared flag); (2) the device now accepts the
# driver's 32x16x16 granularity for attn_cm2.comp (the NV prefill attention, UNICORN_VK_ATTN_CM2=1), so
# test-vk-ops runs its cases for the first time on a GPU. .gl/bin: the commit that does both;
# vk-kernel-bench-old and unicorn-bench-base: 696357a. Tests, then the prefill attention kernels.
# run117.sh: whole models.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run116.txt
{ timeout 60 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $?: $(grep -m1 'check failed' $OUT/m.txt | cut -c1-200)"
  timeout 200 $B/test-vk-ops > $OUT/o.txt 2>&1; echo "test-vk-ops rc $?: $(grep -m1 'check failed' $OUT/o.txt | cut -c1-200)"
  grep "NV matrices\|attn_cm2\|NV coopmat2" $OUT/o.txt | head -5; } | tee -a $OUT/run116.txt
C="attnpf:28,4,128,512 attnpf:28,4,128,512,3584 attnpf:4,1,256,512 attnpf:4,1,256,512,3584 attnpf:32,16,128,512,3584 attnpf:8,4,256,512,3584"
for be in vk-kernel-bench-old:X=1 vk-kernel-bench-old:UNICORN_VK_ATTN_PF_SPLITS=1 vk-kernel-bench:X=1 \
          vk-kernel-bench:UNICORN_VK_ATTN_PF_SPLITS=1 vk-kernel-bench:UNICORN_VK_ATTN_CM2=1; do
  b=${be%%:*} e=${be#*:}
  echo "$b $e: $(env $e timeout 60 $B/$b -r 50 $C 2>&1 | grep '^attnpf' | awk '{print $3}' | tr '\n' ' ')"
done | tee -a $OUT/run116.txt
