#!/bin/bash
# Written 2026-12-06 (twenty-seventh session), ~9 min. .gl/bin: a build with matmul_cm2hw_q4_k/_q5_k/_q6_k.
# The NV prefill product decoding a 32-bit word an element for the K-quants too
# (UNICORN_VK_CM2_WORD=2; =1 is Q4_0 and Q8_0, 2-5% faster on their products in run104.sh but never run
# on whole models; =3 both). The K-quant products are where the Q4_K-mix rows trail llama.cpp (7B
# gate/up 8%, down 12% at the same tiles). First test-vk-ops' products with both forms on, then the
# products alone, then whole models (pp512 and tg128 from an empty context; llama.cpp in the same call).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run145.txt
(gen qwen2.5-7b q4_k; gen gemma3-4b q4_k; gen gemma3-1b q8_0; gen llama3-8b q4_k) &
SECONDS=0
UNICORN_VK_CM2_WORD=3 timeout 300 $B/test-vk-ops matmul > $OUT/o-word.txt 2>&1
echo "test-vk-ops matmul, UNICORN_VK_CM2_WORD=3: rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-word.txt | cut -c1-240)" | tee -a $OUT/run145.txt
grep -i "workgroup-scope\|passed\|failed" $OUT/o-word.txt | tail -3 | tee -a $OUT/run145.txt
C="mm:q4_k:18944:3584:512 mm:q4_k:3584:18944:512 mm:q4_k:3584:3584:512 mm:q4_k:10240:2560:512 mm:q4_k:2560:10240:512 mm:q6_k:3584:18944:512 mm:q6_k:2560:10240:512 mm:q8_0:6912:1152:512 mm:q8_0:1152:6912:512 mm:q4_0:18944:3584:512"
echo "cases (us): $C" | tee -a $OUT/run145.txt
for e in X=1 UNICORN_VK_CM2_WORD=3 X=1 UNICORN_VK_CM2_WORD=3; do
  echo "$e: $(env $e timeout 90 $B/vk-kernel-bench -r 20 $C 2>&1 | grep ^mm | awk '{print $6}' | tr '\n' ' ')"
done | tee -a $OUT/run145.txt
wait
export DEPTHS=0
models qwen2.5-7b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=2 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=2 | tee -a $OUT/run145.txt
models gemma3-4b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=2 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=2 | tee -a $OUT/run145.txt
models llama3-8b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=2 | tee -a $OUT/run145.txt
models gemma3-1b:q8_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_CM2_WORD=1 | tee -a $OUT/run145.txt
echo "total ${SECONDS}s" | tee -a $OUT/run145.txt
