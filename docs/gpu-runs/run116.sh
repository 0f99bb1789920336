#!/bin/bash
# Written 2026-12-05 (nineteenth session), not yet run: attn_cm.comp fetches f16 cache rows as f16 again
# (62cba7c's form, which passed on the H200 in run111.sh as test-vk-ops-A; the eighteenth session had
# reverted it for a fault that was the split's shared flag). .gl/bin: the commit that re-applies it;
# unicorn-bench-base and vk-kernel-bench-old: 696357a (f16 rows through f32, the split on by default).
# Tests first, then the prefill attention kernel and whole models, old and new, llama.cpp beside.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run116.txt
gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
{ timeout 60 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $?: $(grep -m1 'check failed' $OUT/m.txt | cut -c1-200)"
  timeout 150 $B/test-vk-ops > $OUT/o.txt 2>&1; echo "test-vk-ops rc $?: $(grep -m1 'check failed' $OUT/o.txt | cut -c1-200)"
  grep -c "splits)" $OUT/o.txt; } | tee -a $OUT/run116.txt
C="attnpf:28,4,128,512 attnpf:28,4,128,512,3584 attnpf:4,1,256,512 attnpf:4,1,256,512,3584 attnpf:32,16,128,512,3584 attnpf:8,4,256,512,3584"
for b in vk-kernel-bench-old vk-kernel-bench; do for e in X=1 UNICORN_VK_ATTN_PF_SPLITS=1; do
  echo "$b $e: $(env $e timeout 60 $B/$b -r 50 $C 2>&1 | grep '^attnpf' | awk '{print $3}' | tr '\n' ' ')"; done; done | tee -a $OUT/run116.txt
wait
models qwen2.5-7b:q4_0 unicorn-bench-base:X=1 unicorn-bench:X=1 | tee -a $OUT/run116.txt
models gemma3-1b:q4_0 unicorn-bench-base:X=1 unicorn-bench:X=1 | tee -a $OUT/run116.txt
