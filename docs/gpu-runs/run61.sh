#!/bin/bash
# Decode with weight prefetch into L2 beside idle-bus kernels: budget sweep (MiB per step).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen qwen2.5-7b q4_0 & gen gemma3-4b q4_0 & gen gemma3-27b q4_0 & wait
B=.gl/bin
for s in qwen2.5-7b-q4_0 gemma3-4b-q4_0 gemma3-27b-q4_0; do
  m=/tmp/$s.gguf
  for pf in 0 8 16 32 0 48; do
    UNICORN_VK_PREFETCH=$pf timeout 60 $B/unicorn-bench --backend vulkan -m $m -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9- | sed "s/^/$s pf=$pf /"
  done
done
