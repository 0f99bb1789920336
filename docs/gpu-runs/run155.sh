#!/bin/bash
# Written and run 2026-12-06 (twenty-eighth session), 130 s (run150-results.txt). .gl/bin: the build with Q4_0's word-wise decode
# on by default (UNICORN_VK_CM2_WORD=0 the build before). The GPU tests with the default, then pp512
# of the Q4_0 rows at the default against =0, alternating twice, with llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run155.txt
(for r in gemma3-1b qwen2.5-0.5b gemma3-4b qwen2.5-7b; do gen $r q4_0; done) &
(timeout 120 $B/test-vk-ops matmul > $OUT/o.txt 2>&1; echo "test-vk-ops matmul rc $?: $(grep -c 'check failed' $OUT/o.txt) failed") | tee -a $OUT/run155.txt
(timeout 120 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $?: $(grep -m1 'check failed\|SKIP' $OUT/m.txt)") | tee -a $OUT/run155.txt
wait
for r in qwen2.5-7b gemma3-4b gemma3-1b qwen2.5-0.5b; do
  sweep $r-q4_0 X=1 UNICORN_VK_CM2_WORD=0 X=1 UNICORN_VK_CM2_WORD=0 | tee -a $OUT/run155.txt
done
echo "total ${SECONDS}s" | tee -a $OUT/run155.txt
