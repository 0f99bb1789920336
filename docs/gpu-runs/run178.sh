#!/bin/bash
# Thirty-fourth session: the K-quant fields of the NV product's decode callback taken from their 16-bit word
# with one shift and one mask (llama.cpp's form) instead of a byte's shift and mask and then the field's.
# .gl/bin2 holds that build, .gl/bin the one before (b9b70b7): the Llama 3 8B product shapes in turn, the
# matmul checks with the new build, and the 8B's pp512 with each in turn, then llama.cpp's.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run178.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k &
kbins "mm:q4_k:14336:4096:512 mm:q4_k:4096:14336:512 mm:q4_k:4096:4096:512 mm:q4_k:1024:4096:512 mm:q6_k:4096:14336:512" bin bin2 bin bin2 bin bin2 | tee -a $R
(SECONDS=0; timeout 100 .gl/bin2/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "bin2 test-vk-ops matmul rc $? ${SECONDS}s") | tee -a $R
grep -m3 "check failed\|matmul cases" $OUT/o-mm.txt | tee -a $R
wait
sweep llama3-8b-q4_k bin bin2 bin bin2 2>&1 | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
