#!/bin/bash
# Staged 8-bit mat-vecs, final form: the row staged before any weight load, grid capped at 2
# workgroups per multiprocessor. Kernel times and registers; tg128 off (UNICORN_VK_MV8S=0), on
# (default), and on for q/k/v only (UNICORN_VK_MV8S_SITES=1), alternating.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_k & gen qwen2.5-7b q4_0 & gen gemma3-4b q4_k & gen gemma3-1b q8_0 & gen qwen2.5-0.5b q4_0 & wait; echo gen done) &
B=.gl/bin
timeout 60 $B/vk-kernel-bench -r 200 gluq:q4_0:18944:3584 gluq:q4_k:18944:3584 mvq:q4_0:3584:3584 glus:q4_0:18944:3584 glus:q4_k:18944:3584 mvs:q4_0:3584:3584 2>&1 | grep -E "^(mv|glu)"
UNICORN_VK_PIPELINE_STATS=1 timeout 60 $B/vk-kernel-bench -r 2 mvq:q4_k:512:3584 mvq:q4_0:512:3584 2>&1 | grep -E "mv8s?g?_q4_(k_r1u1|0_r1u2)" | sort -u
wait
ub() { timeout 60 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in qwen2.5-7b-q4_k qwen2.5-7b-q4_0 gemma3-4b-q4_k gemma3-1b-q8_0 qwen2.5-0.5b-q4_0; do
  for v in off on qkv off on; do
    case $v in off) e="UNICORN_VK_MV8S=0";; on) e="UNICORN_VK_MV8S_SITES=3";; qkv) e="UNICORN_VK_MV8S_SITES=1";; esac
    echo "$s $v $(export $e; ub /tmp/$s.gguf -p 0 -n 128 -r 3)"
  done
done
