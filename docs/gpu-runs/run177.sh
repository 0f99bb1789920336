#!/bin/bash
# Thirty-fourth session: run176.sh's profile showed Llama 3 8B's k and v products (1024 x 4096, Q4_K,
# 512 tokens) split over k in 4 slices of 29.9 us each (serialized by the profile's timestamps) against
# llama.cpp's 33.1 us a whole product. Times that product and the whole pp512 with the split's cap as it
# is (8), off (1), 2 and 3; the other products of the 8B do not split, so the switch touches only these.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run177.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k &
M="mm:q4_k:1024:4096:512 mm:q6_k:1024:4096:512 mm:q4_k:4096:4096:512 mm:q4_0:512:3584:512"
echo "== $M" | tee -a $R
for e in X=1 UNICORN_VK_CM2_SPLIT=1 UNICORN_VK_CM2_SPLIT=2 UNICORN_VK_CM2_SPLIT=3 X=1 UNICORN_VK_CM2_SPLIT=1 UNICORN_VK_CM2_SPLIT=2; do
  echo "$e: $(env $e timeout 40 $B/vk-kernel-bench -r 20 $M 2>&1 | tee -a $OUT/kb-split.txt | grep -E '^mm' | awk '{print $6}' | tr '\n' ' ')" | tee -a $R
done
wait
sweep llama3-8b-q4_k X=1 UNICORN_VK_CM2_SPLIT=1 UNICORN_VK_CM2_SPLIT=2 X=1 UNICORN_VK_CM2_SPLIT=1 UNICORN_VK_CM2_SPLIT=2 2>&1 | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
