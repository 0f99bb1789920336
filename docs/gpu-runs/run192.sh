#!/bin/bash
# Written in the thirty-eighth session, not run (no machine; the next session's first call): steps of 2-8
# tokens (sequences decoding together) on the 8-bit mat-vecs of several tokens (mv8n, new) against the float
# mat-vec they replace (UNICORN_VK_MV8N=0; the 8B), beside llama-batched-bench, and two groups of lanes a row
# (UNICORN_VK_MV8N=2) if time is left; first the matmul cases of test-vk-ops (mv8n's own cases) and
# test-vk-models (its batched steps on 8-bit activations).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run192.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 &
mmtests | tee -a $R
grep "of several tokens" $OUT/o-mm.txt | tee -a $R
grep "sequences:" $OUT/m.txt | head -3 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
NOPP=1 batched llama3-8b-q4_k 1,2,4,8 X=1 UNICORN_VK_MV8N=0 | tee -a $R
echo "llama3-8b-q4_k done ${SECONDS}s" | tee -a $R
for m in qwen2.5-7b-q4_0; do
  [ $SECONDS -lt 150 ] || { echo "no time for $m" | tee -a $R; continue; }
  NOPP=1 batched $m 1,2,3,4,8 X=1 | tee -a $R
  echo "$m done ${SECONDS}s" | tee -a $R
done
[ $SECONDS -lt 170 ] && NOPP=1 batched llama3-8b-q4_k 2,4,8 UNICORN_VK_MV8N=2 | grep -v llama.cpp | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
