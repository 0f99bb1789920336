#!/bin/bash
# Thirty-fifth session, third call (~450 s): (1) the small tile (at most 64 tokens) with the K-quant 16-bit word
# decode (default) against the byte form (UNICORN_VK_CM2_KWORD=0), kernel by kernel at 32 and 64 tokens, while
# the 27B generates; (2) Gemma 3 27B Q4_K mix, the README's one prefill row at 1.00x (run128, before the word
# form), pp512 on and off in turn beside llama.cpp, and its tg128.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run181.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen gemma3-27b q4_k &
M="mm:q4_k:4096:4096:64 mm:q4_k:14336:4096:64 mm:q4_k:4096:14336:64 mm:q6_k:4096:14336:64 mm:q5_k:4096:4096:64 mm:q4_k:4096:14336:32 mm:q6_k:4096:14336:32"
# a warm-up process first: the first case of a fresh machine's first process read 3-4x slow (run145.sh)
timeout 30 $B/vk-kernel-bench -r 5 $M >/dev/null 2>&1
echo "== vk-kernel-bench -r 20 $M (us)" | tee -a $R
for e in X=1 UNICORN_VK_CM2_KWORD=0 X=1 UNICORN_VK_CM2_KWORD=0; do
  echo "$e: $(env $e timeout 60 $B/vk-kernel-bench -r 20 $M 2>&1 | tee -a $OUT/kb-small.txt | grep -E '^mm' | awk '{print $6}' | tr '\n' ' ')" | tee -a $R
done
wait
echo "gen done ${SECONDS}s" | tee -a $R
sweep gemma3-27b-q4_k X=1 UNICORN_VK_CM2_KWORD=0 X=1 UNICORN_VK_CM2_KWORD=0 2>&1 | tee -a $R
tg gemma3-27b-q4_k X=1 2>&1 | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
