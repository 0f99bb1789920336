#!/bin/bash
# Written 2026-12-06 (twenty-third session): the default tile rule (VK_CM2_RULE_AUTO: llama.cpp's choice for
# rows of 2048 columns or more, the rounds rule for shorter ones) against the rounds rule (the default before)
# on a row of each kind: Gemma 3 4B Q4_K (long rows: AUTO = llama), Qwen2.5 0.5B Q4_0 and Gemma 3 1B Q4_0
# (short rows: AUTO = rounds but for the down product, where both choose alike). pp512 from an empty context,
# alternating, llama.cpp beside (common.sh's sweep). .gl/bin: that build.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run132.txt
ROWS="gemma3-4b:q4_k qwen2.5-0.5b:q4_0 gemma3-1b:q4_0"
for r in $ROWS; do gen ${r%:*} ${r#*:} & done; wait
for r in $ROWS; do
  sweep ${r%:*}-${r#*:} X=1 UNICORN_VK_CM2_RULE=rounds X=1 UNICORN_VK_CM2_RULE=rounds | tee -a $OUT/run132.txt
done
