#!/bin/bash
# The thirty-seventh session's first call: the thirty-sixth session's run186.sh (never ran: no machine; removed,
# as this holds it) and, before its pp lengths, the GPU time per kernel of one 150-token and one 300-token step
# of Llama 3 8B Q4_K mix beside llama.cpp's (vkcompare), where it still trails (0.94x at both, run185.sh); and
# the wide tile of 160, 192 or 224 tokens instead of 256 (UNICORN_VK_CM2_WIDE_BN), products and whole models.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run187.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 & gen gemma3-4b q4_k &
mmtests | tee -a $R
M="mm:q4_k:14336:4096:128 mm:q4_k:14336:4096:150 mm:q4_k:14336:4096:256 mm:q4_k:4096:14336:150 mm:q4_k:4096:4096:150"
timeout 30 $B/vk-kernel-bench -r 5 $M >/dev/null 2>&1
kbins "$M" X=1 UNICORN_VK_CM2_RULE=rounds X=1 UNICORN_VK_CM2_RULE=rounds | tee -a $R
# the wide tile at fewer tokens than 256 (UNICORN_VK_CM2_WIDE_BN; the 150-token batch pads to 256 by default)
W="mm:q4_k:14336:4096:150 mm:q4_0:18944:3584:150 mm:q4_k:14336:4096:200 mm:q4_k:14336:4096:400 mm:q4_k:14336:4096:512"
kbins "$W" X=1 UNICORN_VK_CM2_WIDE_BN=160 UNICORN_VK_CM2_WIDE_BN=192 UNICORN_VK_CM2_WIDE_BN=224 X=1 UNICORN_VK_CM2_WIDE_BN=192 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
vkcompare llama3-8b-q4_k 150; vkcompare llama3-8b-q4_k 300
echo "vkcompare done ${SECONDS}s" | tee -a $R
for m in llama3-8b-q4_k qwen2.5-7b-q4_0 gemma3-4b-q4_k; do
  [ $SECONDS -lt 440 ] || { echo "no time for $m" | tee -a $R; continue; }
  pplens $m 32,64,100,150,200,300,400,512 X=1 UNICORN_VK_CM2_TAIL=0 UNICORN_VK_CM2_WIDE_BN=192 | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
