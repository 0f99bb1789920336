#!/bin/bash
# For the thirty-fifth session's first call (~400 s): the K-quant 16-bit word decode (d360d8c, on by default on
# the narrow and small tiles) on whole models, on and off (UNICORN_VK_CM2_KWORD=0) in turn beside llama.cpp:
# the README's Q4_K mix rows that run176-run179 did not (the 8B did: 1.03-1.04x in run179).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run180.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen qwen2.5-7b q4_k; gen gemma3-4b q4_k &
sweep qwen2.5-7b-q4_k X=1 UNICORN_VK_CM2_KWORD=0 X=1 UNICORN_VK_CM2_KWORD=0 2>&1 | tee -a $R
wait
sweep gemma3-4b-q4_k X=1 UNICORN_VK_CM2_KWORD=0 X=1 UNICORN_VK_CM2_KWORD=0 2>&1 | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
