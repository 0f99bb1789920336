#!/bin/bash
# Written 2026-12-05 (twenty-first session), not yet run (no device was lent that session). .gl/bin:
# that session's build. The other rows below llama.cpp's prefill (run118.sh, H100, pp512 from an empty
# context: Gemma 3 1B Q4_0 0.94x, Qwen2.5 7B Q4_K 0.95x, Gemma 3 27B Q4_0 0.93x): pp512 with the
# default tile rule and llama.cpp's (UNICORN_VK_CM2_RULE=llama; on the 27B it splits o and down, 84 wide
# workgroups on 132 multiprocessors, in 3; on the 7B it chooses as the default does), llama.cpp beside
# (common.sh's sweep); then one step's GPU time per kernel and shape from both engines (vkcompare).
# run126.sh does Gemma 3 4B. ROWS overrides the rows.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run127.txt
ROWS=${ROWS:-"gemma3-1b:q4_0 qwen2.5-7b:q4_k gemma3-27b:q4_0"}
for r in $ROWS; do gen ${r%:*} ${r#*:} & done; wait
for r in $ROWS; do
  m=${r%:*}-${r#*:}
  sweep $m X=1 UNICORN_VK_CM2_RULE=llama | tee -a $OUT/run127.txt
  vkcompare $m
  { echo "== $m"; grep -E '^(Unicorn|llama.cpp)' $OUT/compare-$m.txt; } | tee -a $OUT/run127.txt
done
