#!/bin/bash
# The thirty-sixth session's second call (~200 s): the tail of a padded batch as a product of its own, picked
# and split by the rule for its token count, both products' split sums after one barrier (run184.sh's tail
# form ran unsplit after the first product's sum and made Qwen2.5 7B Q4_0's pp300 25% slower), and the rounds
# rule's small tile for any batch of at most 64 tokens. .gl/bin0: the build of run184.sh (47f475b); .gl/bin:
# this one, the tail off (X=1) and on (UNICORN_VK_CM2_TAIL=1). (1) test-vk-ops matmul (its w == 8 cases: the
# tail split, on the real rule) and test-vk-models with the tail on; (2) products of 300 tokens at the 8B's and
# the 7B's shapes; (3) pp at lengths with a tail (150: narrow 128 + 22; 300: wide 256 + 44; 400: narrow
# 384 + 16) beside llama.cpp; (4) Gemma 3 1B Q4_0 (rows of 1152: the rounds rule) at 32, 64 and 300.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run185.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
(SECONDS=0; UNICORN_VK_CM2_TAIL=1 timeout 100 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul (tail on) rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-mm.txt | cut -c1-240)") | tee -a $R
tail -3 $OUT/o-mm.txt | tee -a $R
(SECONDS=0; UNICORN_VK_CM2_TAIL=1 UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 60 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models (tail on) rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-240)") | tee -a $R
M="mm:q4_k:14336:4096:300 mm:q4_k:4096:14336:300 mm:q4_k:4096:4096:300 mm:q4_0:18944:3584:300 mm:q4_0:3584:18944:300 mm:q4_0:3584:3584:300 mm:q4_k:4096:14336:400"
timeout 30 $B/vk-kernel-bench -r 5 $M >/dev/null 2>&1
kbins "$M" X=1 UNICORN_VK_CM2_TAIL=1 bin0 X=1 UNICORN_VK_CM2_TAIL=1 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
for m in llama3-8b-q4_k qwen2.5-7b-q4_0; do
  pplens $m 150,300,400 X=1 UNICORN_VK_CM2_TAIL=1 | tee -a $R
  echo "${SECONDS}s" | tee -a $R
done
pplens gemma3-1b-q4_0 32,64,300 bin0 X=1 UNICORN_VK_CM2_TAIL=1 | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
