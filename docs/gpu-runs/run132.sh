#!/bin/bash
# Written 2026-12-06 (twenty-third session), not yet run (~7-8 min, estimated from run128.sh's 416 s for a
# similar load: give it the tool's 600 s). .gl/bin: the commit that adds UNICORN_VK_NORM_ROWS
# or later (the default tile rule VK_CM2_RULE_AUTO: llama.cpp's choice for rows of 2048 columns or more, the
# rounds rule for shorter ones).
# (1) The default against the rounds rule (the default before) on a row of each kind: Gemma 3 4B Q4_K (long
# rows: AUTO = llama.cpp's rule, +6% in run128.sh), Qwen2.5 0.5B Q4_0 (short rows: AUTO = rounds), pp512 from
# an empty context, alternating, llama.cpp beside (common.sh's sweep). (2) The 1B rows, furthest behind
# llama.cpp (0.82-0.90x in run128-results.txt): q/k/v and gate/up as one product each in prefill
# (UNICORN_VK_QKV_FUSED=3, UNICORN_VK_GU_FUSED=1; measured before only on 4B-8B, where noise hid any
# difference) and llama.cpp's rule, then the 1B's products alone under the default and llama.cpp's rule.
# Both GPU tests of the build first, and in the sweeps the prefill norms with registers for just the model's
# rows (UNICORN_VK_NORM_ROWS=1; the norms took twice llama.cpp's time in run128.sh's profiles).
# (3) .gl/bin/*-restrict: the same build with matmul_cm2.comp's weight and activation buffer references
# declared restrict (built after sed -i 's/readonly buffer \(WBlock\|WHalves\|XHalves\)/restrict readonly
# buffer \1/' shaders/matmul_cm2.comp; SPIR-V: a Restrict member decoration on each), on Qwen2.5 7B Q4_K,
# whose K-quant products trail llama.cpp's by 8-12% at the same tiles (run128-results.txt): the whole model
# (pp512, tg128) beside llama.cpp, then its products alone.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run132.txt
ROWS="gemma3-4b:q4_k qwen2.5-0.5b:q4_0 gemma3-1b:q4_0 gemma3-1b:q8_0 qwen2.5-7b:q4_k"
for r in $ROWS; do gen ${r%:*} ${r#*:} & done; wait
gputests | tee -a $OUT/run132.txt
for m in gemma3-4b-q4_k qwen2.5-0.5b-q4_0; do
  sweep $m X=1 UNICORN_VK_CM2_RULE=rounds UNICORN_VK_NORM_ROWS=1 X=1 UNICORN_VK_CM2_RULE=rounds \
    UNICORN_VK_NORM_ROWS=1 | tee -a $OUT/run132.txt
done
for m in gemma3-1b-q4_0 gemma3-1b-q8_0; do
  sweep $m X=1 UNICORN_VK_QKV_FUSED=3 UNICORN_VK_GU_FUSED=1 UNICORN_VK_QKV_FUSED=3,UNICORN_VK_GU_FUSED=1 \
    UNICORN_VK_CM2_RULE=llama UNICORN_VK_NORM_ROWS=1 X=1 UNICORN_VK_NORM_ROWS=1 | tee -a $OUT/run132.txt
done
# Gemma 3 1B at 512 tokens: gate (and up), down, q/k/v joined, q, k (and v), o.
rulebench mm:q4_0:6912:1152:512 mm:q4_0:1152:6912:512 mm:q4_0:1536:1152:512 mm:q4_0:1024:1152:512 \
  mm:q4_0:256:1152:512 mm:q4_0:1152:1024:512 mm:q4_0:13824:1152:512 | tee -a $OUT/run132.txt
DEPTHS=0 models qwen2.5-7b:q4_k unicorn-bench:X=1 unicorn-bench-restrict:X=1 unicorn-bench:X=1 \
  unicorn-bench-restrict:X=1 | tee -a $OUT/run132.txt
for b in vk-kernel-bench vk-kernel-bench-restrict vk-kernel-bench vk-kernel-bench-restrict; do
  echo "== $b -r 20" | tee -a $OUT/run132.txt
  timeout 60 $B/$b -r 20 mm:q4_k:18944:3584:512 mm:q4_k:3584:18944:512 mm:q4_k:3584:3584:512 2>&1 | tail -3 |
    tee -a $OUT/run132.txt
done
