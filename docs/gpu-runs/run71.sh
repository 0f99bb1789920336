#!/bin/bash
# A: attn_cm.comp shapes for a 512-token chunk after earlier context (later chunks of a long prompt).
# B: the summary rows still measured before the split-head attention, beside llama.cpp.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen smollm2-135m q4_1 & gen gemma3-1b q4_0 & gen gemma3-1b q4_k & gen gemma3-4b q4_k & gen qwen2.5-7b q4_k & gen gemma3-27b q4_0 & wait; echo gen done) &
B=.gl/bin
echo "== A"
K256="attnpf:8,4,256,512 attnpf:8,4,256,512,1536 attnpf:8,4,256,512,3584 attnpf:4,1,256,512,1536 attnpf:4,1,256,512,3584"
K128="attnpf:28,4,128,512 attnpf:28,4,128,512,1536 attnpf:28,4,128,512,3584 attnpf:32,16,128,512,3584"
for sh in 128,32,4 128,32,2 256,32,2 256,32,4; do echo "shape $sh"; UNICORN_VK_ATTN_CM_SHAPE=$sh timeout 60 $B/vk-kernel-bench -r 10 $K256 2>&1 | grep attnpf; done
for sh in 128,32,2 128,32,1 256,32,2 256,32,1; do echo "shape $sh"; UNICORN_VK_ATTN_CM_SHAPE=$sh timeout 60 $B/vk-kernel-bench -r 10 $K128 2>&1 | grep attnpf; done
wait
echo "== B"
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
for s in qwen2.5-7b-q4_k gemma3-27b-q4_0 gemma3-4b-q4_k gemma3-1b-q4_0 gemma3-1b-q4_k smollm2-135m-q4_1; do
  m=/tmp/$s.gguf
  timeout 120 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9- | sed "s/^/$s ours /"
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 150 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128" | awk -F'|' '{print $(NF-2), $(NF-1)}' | sed "s/^/$s llama /"
done
