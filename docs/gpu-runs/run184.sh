#!/bin/bash
# For the thirty-sixth session's first call (~330 s), on .gl/bin built from the head of main: what the
# thirty-fifth session wrote after its last GPU call. (1) test-vk-ops matmul (its NV cases padded, unpadded,
# split, and with a batch's tail apart: w == 8) and test-vk-models, plain and with UNICORN_VK_CM2_TAIL=1,
# while the models generate; (2) products at token counts that are not a multiple of the tile, the tail
# form off and on, alternating (run183.sh's figures are the form before the split slices kept MM_XPAD and
# before batches of fewer tokens than a tile were split); (3) pp32-pp512, tail off and on, beside llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run184.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 &
(SECONDS=0; timeout 120 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-mm.txt | cut -c1-240)") | tee -a $R
tail -3 $OUT/o-mm.txt | tee -a $R
for e in X=1 UNICORN_VK_CM2_TAIL=1; do
  f=$OUT/m-${e%%=*}.txt
  (SECONDS=0; env $e UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 100 $B/test-vk-models > $f 2>&1; echo "test-vk-models ($e) rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $f | cut -c1-240)") | tee -a $R
done
M="mm:q4_k:4096:14336:32 mm:q4_k:4096:14336:64 mm:q4_k:4096:4096:100 mm:q4_0:3584:18944:200 mm:q4_k:14336:4096:300 mm:q4_k:14336:4096:320 mm:q4_k:4096:14336:512"
timeout 30 $B/vk-kernel-bench -r 5 $M >/dev/null 2>&1
kbins "$M" X=1 UNICORN_VK_CM2_TAIL=1 X=1 UNICORN_VK_CM2_TAIL=1 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
for m in llama3-8b-q4_k qwen2.5-7b-q4_0; do
  pplens $m 32,100,300,512 X=1 UNICORN_VK_CM2_TAIL=1 X=1 UNICORN_VK_CM2_TAIL=1 | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
