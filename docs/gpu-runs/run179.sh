#!/bin/bash
# Thirty-fourth session: run178.sh again with the word-wise K-quant decode on the narrow and small tiles
# only (the wide tile keeps the byte form: the KWORD specialization constant, UNICORN_VK_CM2_KWORD=1, the
# default of .gl/bin2). Same steps: the 8B product shapes, .gl/bin (b9b70b7) and .gl/bin2 in turn, the
# matmul checks with .gl/bin2, the 8B's pp512 with each in turn, then llama.cpp's.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run179.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k &
kbins "mm:q4_k:14336:4096:512 mm:q4_k:4096:14336:512 mm:q4_k:4096:4096:512 mm:q4_k:1024:4096:512 mm:q6_k:4096:14336:512" bin bin2 bin bin2 | tee -a $R
(SECONDS=0; timeout 100 .gl/bin2/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "bin2 test-vk-ops matmul rc $? ${SECONDS}s") | tee -a $R
grep -m3 "check failed\|matmul cases" $OUT/o-mm.txt | tee -a $R
wait
sweep llama3-8b-q4_k bin bin2 bin bin2 2>&1 | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
