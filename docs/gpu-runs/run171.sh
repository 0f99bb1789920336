#!/bin/bash
# Thirtieth session, call 4 (same machine). pp512 from 0 of the rows last below 1.0x (sweep: ours median of 8,
# llama.cpp median of its last 10 of 20), each of ours twice.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
gen gemma3-1b q8_0; gen llama3-8b q4_k
for m in gemma3-1b-q8_0 llama3-8b-q4_k qwen2.5-7b-q4_k; do sweep $m X=1 X=1; done | tee -a $OUT/run171.txt
echo "total ${SECONDS}s" | tee -a $OUT/run171.txt
