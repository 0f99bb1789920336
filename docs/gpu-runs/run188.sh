#!/bin/bash
# The plus tile (matmul_cm2.comp's PLUS: the narrow tile with a second accumulator of 32 or 64 tokens that takes
# the same decoded weights; UNICORN_VK_CM2_PLUS=32|64, off by default in this build): (1) test-vk-ops matmul with it
# (in the narrow tile's place, and as a wide tile's tail of 144 tokens); (2) the products of Llama 3 8B and Qwen2.5
# 7B at 150 tokens and the 8B's gate at 400, without it and with either; (3) pp of the 8B and the 7B Q4_0 at lengths
# just past 128 and at 400, beside llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run188.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 &
(SECONDS=0; UNICORN_VK_CM2_PLUS=32 timeout 100 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul (plus 32) rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-mm.txt | cut -c1-240)") | tee -a $R
tail -3 $OUT/o-mm.txt | tee -a $R
M="mm:q4_k:14336:4096:150 mm:q4_k:4096:14336:150 mm:q4_k:4096:4096:150 mm:q4_k:6144:4096:150 mm:q4_0:18944:3584:150 mm:q4_0:3584:18944:150 mm:q4_k:14336:4096:400 mm:q4_k:14336:4096:128"
timeout 30 $B/vk-kernel-bench -r 5 $M >/dev/null 2>&1
kbins "$M" X=1 UNICORN_VK_CM2_PLUS=32 UNICORN_VK_CM2_PLUS=64 X=1 UNICORN_VK_CM2_PLUS=32 UNICORN_VK_CM2_PLUS=64 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
for m in llama3-8b-q4_k qwen2.5-7b-q4_0; do
  pplens $m 140,150,160,176,192,400 X=1 UNICORN_VK_CM2_PLUS=32 UNICORN_VK_CM2_PLUS=64 | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
