#!/bin/bash
# Run 2026-12-06 (twenty-eighth session), 81 s, .gl/bin: the build of run155.sh (Q4_0 word-wise by default).
# The rows still under llama.cpp's prefill, from 0 and 4,096 positions, with llama.cpp. Then, as a separate
# call (140 s), the whole of test-vk-ops on that build:
#   (SECONDS=0; timeout 320 stdbuf -oL $B/test-vk-ops 2>&1; echo "rc $?") | while IFS= read -r l; do echo "$SECONDS $l"; done > $OUT/o.txt
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
(gen gemma3-4b q4_k; gen llama3-8b q4_k) &
DEPTHS=0,4096 models gemma3-1b:q4_0 unicorn-bench:X=1
wait
DEPTHS=0,4096 models gemma3-4b:q4_k unicorn-bench:X=1
DEPTHS=0,4096 models llama3-8b:q4_k unicorn-bench:X=1
echo "total ${SECONDS}s"
