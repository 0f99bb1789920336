#!/bin/bash
# Run 2026-12-06 (twenty-eighth session), 148 s, .gl/bin: f0d4d9c. The NV product's loop over 512 columns a
# pass instead of 256 (UNICORN_VK_CM2_UNROLL=512, llama.cpp's 8 x BK for blocks of 32; never measured on
# whole models before), with Q4_0's word-wise decode on, and on Gemma 3 1B Q8_0; then its product tests.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
for m in gemma3-1b-q4_0 gemma3-4b-q4_0 qwen2.5-7b-q4_0; do gen ${m%-q4_0} q4_0; done; gen gemma3-1b q8_0
for m in qwen2.5-7b-q4_0 gemma3-4b-q4_0 gemma3-1b-q4_0; do
  sweep $m UNICORN_VK_CM2_WORD=1 UNICORN_VK_CM2_WORD=1+UNICORN_VK_CM2_UNROLL=512 UNICORN_VK_CM2_WORD=1 UNICORN_VK_CM2_WORD=1+UNICORN_VK_CM2_UNROLL=512
done
sweep gemma3-1b-q8_0 X=1 UNICORN_VK_CM2_UNROLL=512 X=1 UNICORN_VK_CM2_UNROLL=512
(UNICORN_VK_CM2_WORD=1 UNICORN_VK_CM2_UNROLL=512 timeout 120 $B/test-vk-ops matmul > $OUT/o.txt 2>&1; echo "test-vk-ops matmul WORD=1 UNROLL=512 rc $?: $(grep -c 'check failed' $OUT/o.txt) failed")
echo "total ${SECONDS}s"
