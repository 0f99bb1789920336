#!/bin/bash
# Written 2026-12-04 (twelfth session, no GPU lent): the two decode experiments off by default, on
# the H200. Tests first (both forms against the CPU), then kernels (staged GLU with and without its
# 8-bit output; q/k/v of the 7B as one staged product against three), then tg128 alternating
# e3b5046 (-old) / default (logits read in place since fe6fdcc) / UNICORN_VK_GLU_Q8=1 /
# UNICORN_VK_QKV_FUSED=1 / both, llama.cpp's 1B Q8_0 beside.
# .gl/bin: this build's unicorn-bench, vk-kernel-bench, test-vk-ops, test-vk-models, unicorn-quantize;
# unicorn-bench-old built from e3b5046.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-1b q8_0 & gen qwen2.5-7b q4_k & gen qwen2.5-7b q4_0 & gen gemma3-270m q4_k & wait; echo gen done) &
B=.gl/bin
timeout 120 $B/test-vk-ops 2>&1 | tail -3
UNICORN_QUANTIZE=$B/unicorn-quantize timeout 150 $B/test-vk-models 2>&1 | grep -E "as one product|check failed|quantized" | tail -8
K="glus:q8_0:6912:1152 glusq:q8_0:6912:1152 glus:q4_0:18944:3584 glusq:q4_0:18944:3584"
K="$K glus:q4_k:18944:3584 glusq:q4_k:18944:3584 mvs:q4_k:4608:3584 mvs:q4_k:3584:3584 mvs:q4_k:512:3584"
UNICORN_VK_GLU_Q8=1 timeout 60 $B/vk-kernel-bench -r 200 $K 2>&1 | grep -E "^(mv|glu)"
wait %1
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
ub() { timeout 60 $1 --backend vulkan -m $2 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
# Two passes over all models (a call cut at its time limit still has one of each), llama.cpp's
# 1B Q8_0 between them.
for pass in 1 2; do
  for s in gemma3-1b-q8_0 gemma3-270m-q4_k qwen2.5-7b-q4_0 qwen2.5-7b-q4_k; do
    for v in old def glu qkv both; do
      e="X=1" b=$B/unicorn-bench
      [ $v = old ] && b=$B/unicorn-bench-old
      [ $v = glu ] && e="UNICORN_VK_GLU_Q8=1"
      [ $v = qkv ] && e="UNICORN_VK_QKV_FUSED=1"
      [ $v = both ] && e="UNICORN_VK_GLU_Q8=1 UNICORN_VK_QKV_FUSED=1"
      echo "$s $v $(export $e; ub $b /tmp/$s.gguf)"
    done
  done
  [ $pass = 1 ] && echo "gemma3-1b-q8_0 llama.cpp $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 60 /tmp/llama-bench \
    -m /tmp/gemma3-1b-q8_0.gguf -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep tg128 | cut -d'|' -f8-)"
done
