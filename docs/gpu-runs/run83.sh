#!/bin/bash
# Staged 8-bit mat-vecs with Gemma's post-norms folded in too (MV8_POST; residual in two buffers):
# test-vk-ops on the H200, tg128 of Gemma 3 models with UNICORN_VK_MV8S=0 (off) and on alternating,
# llama.cpp's tg beside.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-1b q4_0 & gen gemma3-1b q8_0 & gen gemma3-4b q4_k & gen gemma3-270m q4_k & wait; echo gen done) &
B=.gl/bin
time (timeout 300 $B/test-vk-ops > /tmp/ops.log 2>&1; echo "test-vk-ops rc=$?")
grep -E "FAIL|fail|matmul cases|staged" /tmp/ops.log | head -20
wait
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
ub() { timeout 100 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-1b-q4_0 gemma3-1b-q8_0 gemma3-4b-q4_k gemma3-270m-q4_k; do
  for v in 0 512 0 512; do echo "$s MV8S=$v $(UNICORN_VK_MV8S=$v ub /tmp/$s.gguf -p 0 -n 128 -r 3)"; done
done
for s in gemma3-1b-q8_0 gemma3-4b-q4_k; do
  echo "$s llama $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 100 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | awk -F'|' '{print $(NF-1)}')"
done
