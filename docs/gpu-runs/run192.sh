#!/bin/bash
# Written in the thirty-eighth session, extended in the thirty-ninth; not run in either (no machine: every
# start failed, then loans were paused). Run in the fortieth, on an H100, .gl/bin from c65e6aa
# (run192-results.txt). (1) Steps of 2-8 tokens (sequences decoding together) on the 8-bit mat-vecs of several tokens
# (mv8n) against the float mat-vec they replace (UNICORN_VK_MV8N=0), beside llama-batched-bench, on the 8B;
# the 7B and 1B by default. (2) Prompts of several sequences evaluated together (pp128 xN) with the prefill
# attention run once a sequence's run of tokens (new) against the general kernel (UNICORN_VK_ATTN_RUNS=0).
# First the matmul cases of test-vk-ops (mv8n's own) and test-vk-models (its batched steps, the prompts of 8
# sequences in chunks across them).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run192.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
mmtests | tee -a $R
grep "of several tokens" $OUT/o-mm.txt | tee -a $R
grep "sequences:\|across sequences" $OUT/m.txt | head -4 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
NOPP=1 batched llama3-8b-q4_k 1,2,4,8 X=1 UNICORN_VK_MV8N=0 | tee -a $R
echo "8B tg done ${SECONDS}s" | tee -a $R
NOTG=1 batched llama3-8b-q4_k 4,8,16,32 X=1 UNICORN_VK_ATTN_RUNS=0 | tee -a $R
echo "8B pp done ${SECONDS}s" | tee -a $R
for m in qwen2.5-7b-q4_0 gemma3-1b-q4_0; do
  [ $SECONDS -lt 420 ] || { echo "no time for $m" | tee -a $R; continue; }
  NOPP=1 batched $m 2,4,8 X=1 | tee -a $R
  echo "$m done ${SECONDS}s" | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
