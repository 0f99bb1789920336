#!/bin/bash
# A: the issue's rows not measured yet (tool-made files: Q5_0 in the mix, tied embeddings), beside llama.cpp.
# B: prefill profiles of small models. C: prefetch budgets per site (qkv,o,glu,down,out MiB).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen smollm2-135m q4_1 & gen gemma3-270m q4_k & gen qwen2.5-0.5b q4_0 & gen gemma3-1b q4_k &
gen gemma3-1b q8_0 & gen gemma3-4b q4_0 & gen qwen2.5-7b q4_0 & gen gemma3-27b q4_0 & wait
ls -la /tmp/*.gguf | awk '{print $5/1048576, $9}'
B=.gl/bin
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
echo "== A"
for s in smollm2-135m-q4_1 gemma3-270m-q4_k qwen2.5-0.5b-q4_0 gemma3-1b-q4_k; do
  m=/tmp/$s.gguf
  timeout 60 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9- | sed "s/^/$s ours /"
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128" | awk -F'|' '{print $(NF-2), $(NF-1)}' | sed "s/^/$s llama /"
done
echo "== B"
for s in qwen2.5-0.5b-q4_0 gemma3-1b-q8_0 gemma3-4b-q4_0; do
  UNICORN_VK_PROFILE=1 timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/$s.gguf -p 512 -n 0 -r 2 2>&1 | grep -E "pp512|vk-profile" | sed "s/^/$s /"
done
echo "== C"
for s in gemma3-27b-q4_0 qwen2.5-7b-q4_0; do
  for pf in 0 8 0,12,0,0,0 8,0,0,0,0 0,0,8,0,0 0,0,0,8,0 4,12,4,4,0 8,16,8,8,0 0; do
    UNICORN_VK_PREFETCH=$pf timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/$s.gguf -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9- | sed "s/^/$s pf=$pf /"
  done
done
