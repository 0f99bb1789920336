#!/bin/bash
# Written 2026-12-06 (twenty-fourth session), not yet run (~6 min); then run136.sh (decode). .gl/bin: the
# commit that adds VK_P_ATTN_CM2_WRAP (attn_cm2.comp built with WRAP: steps whose positions wrap a sliding
# layer's ring on the NV kernel, both tensor layouts fixed and the loads branched; UNICORN_VK_ATTN_CM2_WRAP=1
# makes it) or later.
# (1) Both GPU tests (test-vk-ops runs the WRAP form on the wrapped cases, f16 and f32 rows, and on wrapped
# 512-token steps of Gemma 3 4B's sliding layers after 3,584 positions and 1B's after 4,096). (2) pp512 / tg128 at depth 4096, the
# default (wrapped steps on attn_cm.comp) against UNICORN_VK_ATTN_CM2_WRAP=1, llama.cpp beside: Gemma 3 1B
# Q4_0 (its timed step from position 4,096 wraps its ring of 1,024) and 4B Q4_K (only untimed fill steps wrap
# its ring of 1,536: its timed figure should not move; 13,531 against llama.cpp's 13,740 in run134.sh).
# If it wins: make it the default (attn_cm2_make), rerun the depth rows of docs/vulkan.md's table.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run135.txt
gen gemma3-4b q4_k & gen gemma3-1b q4_0 & wait
gputests | tee -a $OUT/run135.txt
grep -c "NV, attn_cm2" $OUT/o.txt | tee -a $OUT/run135.txt
grep "p0=3584 window" $OUT/o.txt | tee -a $OUT/run135.txt
export DEPTHS=4096
for m in gemma3-4b:q4_k gemma3-1b:q4_0; do
  models $m unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_CM2_WRAP=1 unicorn-bench:X=1 \
    unicorn-bench:UNICORN_VK_ATTN_CM2_WRAP=1 | tee -a $OUT/run135.txt
done
# (3) The prefill attention alone, heads of 256 (Gemma 3 4B: 8 heads, 4 kv; 1B: 4, 1), 512 tokens: a global
# layer after 4,096 positions (llama.cpp 164.8 us a layer over 4,608 in run133.sh's profile), sliding layers
# (window 1024, ring 1536) from 4,096 (no wrap) and from 3,584 (wraps; llama.cpp 84.8), the 1B's sliding layer
# (window 512, ring 1024) from 4,096 (wraps), and Qwen2.5 7B's 28 heads of 128; default, the WRAP form, 64
# query rows a workgroup (O then holds 128 floats an invocation), no split.
for e in X=1 UNICORN_VK_ATTN_CM2_WRAP=1 UNICORN_VK_ATTN_CM2_SHAPE=64,32 UNICORN_VK_ATTN_PF_SPLITS=1 X=1; do
  echo "== $e"; env $e timeout 60 $B/vk-kernel-bench -r 20 attnpf:8,4,256,512,4096 attnpf:8,4,256,512,4096,1024,1536 \
    attnpf:8,4,256,512,3584,1024,1536 attnpf:4,1,256,512,4096,512,1024 attnpf:28,4,128,512,4096 2>&1 | grep attnpf
done | tee -a $OUT/run135.txt
