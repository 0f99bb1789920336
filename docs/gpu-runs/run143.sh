#!/bin/bash
# 2026-12-06 (twenty-sixth session): .gl/bin built from the working tree that makes 32-position blocks the
# NV prefill attention's default with f16 O for every head size (heads of 64 and 128: 64 x 32; 256: 32 x 32).
# Both GPU tests, then Qwen2.5 0.5B Q4_0 and SmolLM2 135M Q4_1 from depths 0 and 4096 beside llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run143.txt
(gen qwen2.5-0.5b q4_0; gen smollm2-135m q4_1) &
SECONDS=0; gputests | tee -a $OUT/run143.txt; echo "gputests ${SECONDS}s" | tee -a $OUT/run143.txt
wait
DEPTHS=0,4096 models qwen2.5-0.5b:q4_0 unicorn-bench:X=1 | tee -a $OUT/run143.txt
DEPTHS=0,4096 models smollm2-135m:q4_1 unicorn-bench:X=1 | tee -a $OUT/run143.txt
