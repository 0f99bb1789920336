#!/bin/bash
# Written 2026-12-05 (nineteenth session), not yet run; after run116.sh (same .gl/bin): whole models,
# 696357a (unicorn-bench-base) against the f16 rows of attn_cm.comp (unicorn-bench) and against the NV
# prefill attention (UNICORN_VK_ATTN_CM2=1; only if run116.sh's tests passed), llama.cpp beside.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 & wait
models qwen2.5-7b:q4_0 unicorn-bench-base:X=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2=1 | tee -a $OUT/run117.txt
models gemma3-1b:q4_0 unicorn-bench-base:X=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2=1 | tee -a $OUT/run117.txt
