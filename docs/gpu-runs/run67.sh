#!/bin/bash
# The issue's Q4_K rows of Llama 3 8B and Gemma 3 27B, beside llama.cpp (their last figures predate the NV Q4_K prefill).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen llama3-8b q4_k & gen gemma3-27b q4_k & wait
ls -la /tmp/*.gguf | awk '{print $5/1048576, $9}'
B=.gl/bin
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
for s in llama3-8b-q4_k gemma3-27b-q4_k; do
  m=/tmp/$s.gguf
  for i in 1 2; do
  timeout 120 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9- | sed "s/^/$s ours /"
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 150 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128" | awk -F'|' '{print $(NF-2), $(NF-1)}' | sed "s/^/$s llama /"
  done
done
