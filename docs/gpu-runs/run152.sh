#!/bin/bash
# Run 2026-12-06 (twenty-eighth session), 98 s, written on the GPU machine after run150.sh (.gl/bin: f0d4d9c).
# Q4_0's word-wise decode (UNICORN_VK_CM2_WORD=1): the NV product tests and the model tests with it, then
# the two rows run150.sh left unclear (Gemma 3 270M and 1B Q4_0), alternating.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
(UNICORN_VK_CM2_WORD=1 timeout 120 $B/test-vk-ops matmul > $OUT/o.txt 2>&1; echo "test-vk-ops matmul WORD=1 rc $?: $(grep -c 'check failed' $OUT/o.txt) failed; $(tail -1 $OUT/o.txt)")
(UNICORN_VK_CM2_WORD=1 timeout 120 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models WORD=1 rc $?: $(grep -m1 'check failed\|SKIP' $OUT/m.txt)")
gen gemma3-270m q4_0; gen gemma3-1b q4_0
sweep gemma3-270m-q4_0 X=1 UNICORN_VK_CM2_WORD=1 X=1 UNICORN_VK_CM2_WORD=1 X=1 UNICORN_VK_CM2_WORD=1 X=1 UNICORN_VK_CM2_WORD=1
sweep gemma3-1b-q4_0 X=1 UNICORN_VK_CM2_WORD=1 X=1 UNICORN_VK_CM2_WORD=1
echo "total ${SECONDS}s"
