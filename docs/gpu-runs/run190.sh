#!/bin/bash
# The thirty-eighth session's first call: sequences decoding together (unicorn-bench -s, new) against
# llama-batched-bench on the same files, 1 to 32 sequences: batches of more than 8 tokens take the tiled
# products and the unsplit attention, never timed before.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run190.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
wait
echo "gen done ${SECONDS}s" | tee -a $R
for m in llama3-8b-q4_k qwen2.5-7b-q4_0 gemma3-1b-q4_0; do
  [ $SECONDS -lt 450 ] || { echo "no time for $m" | tee -a $R; continue; }
  batched $m 1,2,4,8,9,16,32 | tee -a $R
  echo "$m done ${SECONDS}s" | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
