#!/bin/bash
# Twenty-ninth session. .gl/bin: the working tree after 86c6111 with attn_cm2.comp's cache blocks loaded
# without bounds checks where they lie wholly inside the span (UNICORN_VK_ATTN_CM2_CLAMP=1: every load
# checked, as before). (1) Both GPU tests (the new loads, and 3ef4ac8's f32-O cases on f32 rows).
# (2) The NV prefill attention alone, default against CLAMP=1, alternating. (3) Whole models at depth 4096.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run158.txt
(gen gemma3-4b q4_k; gen qwen2.5-7b q4_k) &
gputests | tee -a $OUT/run158.txt
grep -i "f32 rows\|O16=0" $OUT/o.txt | head -6 | tee -a $OUT/run158.txt
C="attnpf:8,4,256,512,4096 attnpf:8,4,256,512,3584,1024,1536 attnpf:4,1,256,512,4096,512,1024 attnpf:28,4,128,512,4096 attnpf:32,8,128,512,4096 attnpf:14,2,64,512,4096 attnpf:28,4,128,512,0"
for e in X=1 UNICORN_VK_ATTN_CM2_CLAMP=1 X=1 UNICORN_VK_ATTN_CM2_CLAMP=1; do
  echo "== vk-kernel-bench -r 20 ($e)"; env $e timeout 60 $B/vk-kernel-bench -r 20 $C 2>&1 | grep ^attnpf
done | tee -a $OUT/run158.txt
wait
export DEPTHS=4096
for m in gemma3-4b:q4_k qwen2.5-7b:q4_k; do
  models $m unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_CLAMP=1 unicorn-bench:X=1 | tee -a $OUT/run158.txt
  echo "t ${SECONDS}s" | tee -a $OUT/run158.txt
done
echo "total ${SECONDS}s" | tee -a $OUT/run158.txt
