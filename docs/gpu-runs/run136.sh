#!/bin/bash
# Written 2026-12-06 (twenty-fourth session), not yet run (~5 min). .gl/bin: cb835fe (the logits through device
# memory and one copy on a discrete GPU) or later; run it after run135.sh, which runs both GPU tests of the build.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run136.txt
# (1) Decode with two rows a 32-lane group in every 8-bit mat-vec (UNICORN_VK_MV8=2,2,128; the default is 1,2,128):
# alone it read short rows faster (Qwen2.5 0.5B's output head 152064 x 896 34.4 against 51.5 us, Gemma 3's
# 262144 x 1152 67.7 against 72.1, the staged form there 68.9 against 78.6) and long ones slower (18944 x 3584
# 19.0 against 17.5; run133-results.txt). Whole models whose rows are short (all but the down projection),
# tg128 from an empty context, alternating: if it wins, a rule by row length is the next step.
# (2) In the same runs, the logits written to host memory directly (UNICORN_VK_LOGITS=host, the default
# before: a float a row across the bus; the output mat-vec took 321 us in-model against 72 alone for Gemma 3
# 1B, run133-results.txt) against the default now (device memory, then one copy).
export DEPTHS=0
for m in qwen2.5-0.5b:q4_0 gemma3-1b:q4_0 gemma3-270m:q4_0 gemma3-4b:q4_k; do
  gen ${m%:*} ${m#*:}
  models $m unicorn-bench:X=1 unicorn-bench:UNICORN_VK_MV8=2,2,128 unicorn-bench:UNICORN_VK_LOGITS=host \
    unicorn-bench:X=1 unicorn-bench:UNICORN_VK_MV8=2,2,128 unicorn-bench:UNICORN_VK_LOGITS=host | tee -a $OUT/run136.txt
done
