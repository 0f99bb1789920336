#!/bin/bash
# Staged 8-bit mat-vecs, third form: one pass, a vec4 per lane, blocks by clusters of 8 lanes, the
# 1/rms applied to the sums. Kernel times against the 8-bit-input ones, registers, tg128 off/on.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_0 & gen qwen2.5-7b q4_k & gen qwen2.5-0.5b q4_0 & gen llama3-8b q4_k & wait; echo gen done) &
B=.gl/bin
K="norm:3584 quantx:3584 mvq:q4_0:3584:3584 mvq:q4_0:512:3584 gluq:q4_0:18944:3584 gluq:q4_k:18944:3584"
S="mvs:q4_0:3584:3584 mvs:q4_0:512:3584 glus:q4_0:18944:3584 glus:q4_k:18944:3584"
timeout 60 $B/vk-kernel-bench -r 200 $K 2>&1 | grep -E "^(norm|quantx|mv|glu)"
for w in 128 256 512; do echo "== MV8S=$w"; UNICORN_VK_MV8S=$w timeout 60 $B/vk-kernel-bench -r 200 $S 2>&1 | grep -E "^(mv|glu)"; done
UNICORN_VK_PIPELINE_STATS=1 timeout 60 $B/vk-kernel-bench -r 2 mvq:q4_0:512:3584 2>&1 | grep -E "mv8s?g?_q4_(0_r1u2|k_r1u1)" | head -12
wait
ub() { timeout 100 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in qwen2.5-7b-q4_0 qwen2.5-7b-q4_k llama3-8b-q4_k qwen2.5-0.5b-q4_0; do
  for v in 0 256 0 256; do echo "$s MV8S=$v $(UNICORN_VK_MV8S=$v ub /tmp/$s.gguf -p 0 -n 128 -r 3)"; done
done
