#!/bin/bash
# Ran 2026-12-06 (run134-results.txt: the first form ran 2.2x slower; superseded by run135.sh). Written 2026-12-06 (twenty-fourth session). .gl/bin: the working tree after 4d5a8ad (attn_cm2.comp walks a
# sliding layer's ring on past its end, so steps whose positions wrap it stay on the NV kernel);
# unicorn-bench-prev: 4d5a8ad. ~5-6 min.
# (1) Both GPU tests of the build (test-vk-ops: the NV kernel on the wrapped cases, and Gemma 3 4B's and
# 1B's sliding layers at 512 tokens after 3,584 positions). (2) pp512 and tg128 at depth 4096 on Gemma 3
# 4B Q4_K and 1B Q4_0 (sliding layers: their 29 / 22 took the KHR kernel there, 242 us a layer against
# llama.cpp's 85 on the 4B in run133.sh), before and after, llama.cpp beside.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run134.txt
gen gemma3-4b q4_k & gen gemma3-1b q4_0 & wait
gputests | tee -a $OUT/run134.txt
grep -c "NV, attn_cm2" $OUT/o.txt | tee -a $OUT/run134.txt
grep "attn_cm2.*3584\|attention on coop.*p0=3584" $OUT/o.txt | tee -a $OUT/run134.txt
export DEPTHS=4096
models gemma3-4b:q4_k unicorn-bench-prev:X=1 unicorn-bench:X=1 | tee -a $OUT/run134.txt
models gemma3-1b:q4_0 unicorn-bench-prev:X=1 unicorn-bench:X=1 | tee -a $OUT/run134.txt
