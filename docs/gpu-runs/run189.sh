#!/bin/bash
# The plus tile only in place of the narrow tile (on by default, UNICORN_VK_CM2_PLUS=32; =0 off), after run188.sh
# measured it slower in place of the wide one: test-vk-ops matmul and test-vk-models with it; pp of Llama 3 8B
# and Qwen2.5 7B Q4_0 at 150 and 160 tokens, on and off (twice, alternating), beside llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run189.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 &
mmtests | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
for m in llama3-8b-q4_k qwen2.5-7b-q4_0; do
  pplens $m 150,160 X=1 UNICORN_VK_CM2_PLUS=0 X=1 UNICORN_VK_CM2_PLUS=0 | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
