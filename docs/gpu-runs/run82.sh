#!/bin/bash
# Staged 8-bit mat-vecs (third form) by site: UNICORN_VK_MV8S_SITES=1 (q/k/v only), 2 (gate/up only),
# 3 (both), workgroups of 512 (UNICORN_VK_MV8S=512); MV8S=0 off. tg128.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen qwen2.5-0.5b q4_0 & gen smollm2-135m q4_1 & gen qwen2.5-7b q4_0 & gen qwen2.5-7b q4_k & gen llama3-8b q4_k & wait
B=.gl/bin
ub() { timeout 100 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in qwen2.5-0.5b-q4_0 smollm2-135m-q4_1 qwen2.5-7b-q4_0 qwen2.5-7b-q4_k llama3-8b-q4_k; do
  for v in 0 1 2 3 0 1 2 3; do
    if [ $v = 0 ]; then w=0; else w=512; fi
    echo "$s MV8S=$w sites=$v $(UNICORN_VK_MV8S=$w UNICORN_VK_MV8S_SITES=$v ub /tmp/$s.gguf -p 0 -n 128 -r 3)"
  done
done
