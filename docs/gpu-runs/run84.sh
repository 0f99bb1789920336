#!/bin/bash
# Staged 8-bit mat-vecs with a capped grid (each workgroup takes every N-th block of rows, one staging
# for all): kernel times at UNICORN_VK_MV8S_GRID=0 (a workgroup per block), 1, 2, 4 per
# multiprocessor; tg128 at 0, 2, 4.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_0 & gen qwen2.5-7b q4_k & gen gemma3-4b q4_k & gen gemma3-1b q4_0 & wait; echo gen done) &
B=.gl/bin
timeout 60 $B/vk-kernel-bench -r 200 mvq:q4_0:3584:3584 gluq:q4_0:18944:3584 gluq:q4_k:18944:3584 gluq:q4_k:10240:2560 2>&1 | grep -E "^(mv|glu)"
S="mvs:q4_0:3584:3584 glus:q4_0:18944:3584 glus:q4_k:18944:3584 glus:q4_k:10240:2560"
for g in 0 1 2 4; do echo "== GRID=$g"; UNICORN_VK_MV8S_GRID=$g timeout 60 $B/vk-kernel-bench -r 200 $S 2>&1 | grep -E "^(mv|glu)"; done
UNICORN_VK_PIPELINE_STATS=1 timeout 60 $B/vk-kernel-bench -r 2 mvq:q4_k:512:3584 2>&1 | grep -E "mv8s?g?_q4_k_r1u1" | head -6
wait
ub() { timeout 100 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in qwen2.5-7b-q4_k qwen2.5-7b-q4_0 gemma3-4b-q4_k gemma3-1b-q4_0; do
  for g in 0 2 4 0 2 4; do echo "$s GRID=$g $(UNICORN_VK_MV8S_GRID=$g ub /tmp/$s.gguf -p 0 -n 128 -r 3)"; done
done
