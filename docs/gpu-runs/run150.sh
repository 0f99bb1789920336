#!/bin/bash
# Written 2026-12-06 (twenty-seventh session), run in the twenty-eighth (156 s; run150-results.txt). .gl/bin: any build from 0cb2867 on.
# Should the NV product decode Q4_0 a 32-bit word an element by default (UNICORN_VK_CM2_WORD=1)? In
# run146.sh it took Qwen2.5 7B's pp512 up 2.4-3.4% and Gemma 3 4B's 2-9%, and Gemma 3 1B's down 2-4%
# with the 1B's own two runs 7% apart; the 270M and 0.5B Q4_0 rows were not measured with it. Each
# Q4_0 row, pp512 from 0, alternating three times (median of 8 each), then llama.cpp's.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run150.txt
for r in gemma3-270m gemma3-1b qwen2.5-0.5b gemma3-4b qwen2.5-7b; do gen $r q4_0; done
for r in gemma3-270m gemma3-1b qwen2.5-0.5b gemma3-4b qwen2.5-7b; do
  sweep $r-q4_0 X=1 UNICORN_VK_CM2_WORD=1 X=1 UNICORN_VK_CM2_WORD=1 X=1 UNICORN_VK_CM2_WORD=1 | tee -a $OUT/run150.txt
done
echo "total ${SECONDS}s" | tee -a $OUT/run150.txt
