#!/bin/bash
# Thirty-second session: run176.sh cut to ~300 s after failed starts: the bound weights' kernel figures,
# both GPU tests with them on (test-vk-ops matmul also checks the four-group split form), and Llama 3 8B
# Q4_K mix pp512 with and without them beside llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run176a.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k &
bindbench | tee -a $R
(SECONDS=0; UNICORN_VK_CM2_BIND=1 timeout 150 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul (BIND=1) rc $? ${SECONDS}s") | tee -a $R
grep -m4 "check failed\|four-group\|matmul cases\|CM2_BIND" $OUT/o-mm.txt | tee -a $R
UNICORN_VK_CM2_BIND=1 UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 120 $B/test-vk-models > $OUT/m.txt 2>&1
echo "test-vk-models (BIND=1) rc $?: $(grep -m2 'check failed\|SKIP\|quantized fixtures\|CM2_BIND' $OUT/m.txt | cut -c1-200 | tr '\n' ' ')" | tee -a $R
wait
sweep llama3-8b-q4_k X=1 UNICORN_VK_CM2_BIND=1 X=1 UNICORN_VK_CM2_BIND=1 2>&1 | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
