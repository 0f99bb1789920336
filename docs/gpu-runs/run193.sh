#!/bin/bash
# Fortieth session. Why the 8B's pp128 xN stays at ~11,000 t/s from 4 to 32 sequences while llama.cpp's rises
# (run192.sh): per-kernel GPU times (UNICORN_VK_PROFILE=1) of steps of 512 tokens of one sequence (pp512), of 4
# sequences (pp128 x4) and of 32 (pp128 x32, 4 sequences a step), .gl/bin from 21e2f2c. Not run in the fortieth
# session: two more starts failed and the device time left (274 s) was too short for a start and the run.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run193.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k
echo "gen done ${SECONDS}s" | tee -a $R
for c in "1 512" "4 128" "32 128"; do
  set -- $c
  UNICORN_VK_PROFILE=1 timeout 150 $B/unicorn-bench --backend vulkan -m /tmp/llama3-8b-q4_k.gguf -s $1 -p $2 -n 0 -r 3 \
    > $OUT/prof-s$1.txt 2>&1
  echo "s$1 rc $?: $(grep '| pp' $OUT/prof-s$1.txt | tail -1)" | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
