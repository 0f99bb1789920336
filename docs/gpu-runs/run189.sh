#!/bin/bash
# The plus tile only in place of the narrow tile (on by default, UNICORN_VK_CM2_PLUS=32; =0 off), after run188.sh
# measured it slower in place of the wide one: test-vk-ops matmul and test-vk-models with it; pp of Llama 3 8B
# and Qwen2.5 7B Q4_0 at 150 and 160 tokens, on and off (twice, alternating), beside llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run189.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 &
(SECONDS=0; timeout 100 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-mm.txt | cut -c1-240)") | tee -a $R
tail -3 $OUT/o-mm.txt | tee -a $R
(SECONDS=0; UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 60 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-240)") | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
for m in llama3-8b-q4_k qwen2.5-7b-q4_0; do
  pplens $m 150,160 X=1 UNICORN_VK_CM2_PLUS=0 X=1 UNICORN_VK_CM2_PLUS=0 | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
