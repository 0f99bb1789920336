#!/bin/bash
# pp512 with split-K off (UNICORN_VK_CM2_SPLIT=0) and on, alternating, 10 repetitions each.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen gemma3-4b q4_0 & gen qwen2.5-7b q4_k & wait
ub() { timeout 60 .gl/bin/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-4b-q4_0 qwen2.5-7b-q4_k; do
  for sp in 0 8 0 8 0 8; do echo "$s split=$sp $(UNICORN_VK_CM2_SPLIT=$sp ub /tmp/$s.gguf -p 512 -n 0 -r 10)"; done
done
