#!/bin/bash
# Staged 8-bit mat-vecs (mv8.comp XS): the RMSNorm before q/k/v and before gate/up done by those
# products themselves in models without post-norms (no norm dispatch and barrier). Kernel times
# (norm, quantx, 8-bit-input products vs staged ones, staged workgroup sizes), tg128 with
# UNICORN_VK_MV8S=0 (off) and on alternating, llama.cpp's tg beside.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_0 & gen qwen2.5-7b q4_k & gen llama3-8b q4_k & gen qwen2.5-0.5b q4_0 & wait; echo gen done) &
B=.gl/bin
K="norm:3584 quantx:3584 mvq:q4_0:3584:3584 mvq:q4_0:512:3584 gluq:q4_0:18944:3584 gluq:q4_k:18944:3584 mvq:q4_k:4096:4096 gluq:q4_k:14336:4096"
S="mvs:q4_0:3584:3584 mvs:q4_0:512:3584 glus:q4_0:18944:3584 glus:q4_k:18944:3584 mvs:q4_k:4096:4096 glus:q4_k:14336:4096"
timeout 60 $B/vk-kernel-bench -r 200 $K 2>&1 | grep -E "^(norm|quantx|mv|glu)"
for w in 128 256 512; do echo "== MV8S=$w"; UNICORN_VK_MV8S=$w timeout 60 $B/vk-kernel-bench -r 200 $S 2>&1 | grep -E "^(mv|glu)"; done
wait
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
ub() { timeout 100 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in qwen2.5-7b-q4_0 qwen2.5-7b-q4_k llama3-8b-q4_k qwen2.5-0.5b-q4_0; do
  for v in 0 256 0 256; do echo "$s MV8S=$v $(UNICORN_VK_MV8S=$v ub /tmp/$s.gguf -p 0 -n 128 -r 3)"; done
done
for s in qwen2.5-7b-q4_k llama3-8b-q4_k; do
  echo "$s llama $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 100 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | awk -F'|' '{print $(NF-1)}')"
done
echo "qwen2.5-7b-q4_k MV8S=512 $(UNICORN_VK_MV8S=512 ub /tmp/qwen2.5-7b-q4_k.gguf -p 0 -n 128 -r 3)"
echo "qwen2.5-7b-q4_k MV8S=128 $(UNICORN_VK_MV8S=128 ub /tmp/qwen2.5-7b-q4_k.gguf -p 0 -n 128 -r 3)"
