#!/bin/bash
# Small models' prefill with the wide tile (taken for their gate/up) and without.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen gemma3-1b q8_0 & gen gemma3-1b q4_0 & gen qwen2.5-0.5b q4_0 & wait
B=.gl/bin
for s in gemma3-1b-q8_0 gemma3-1b-q4_0 qwen2.5-0.5b-q4_0; do
  m=/tmp/$s.gguf
  for cfg in 1 0 1 0; do
    UNICORN_VK_CM2_WIDE=$cfg timeout 40 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 5 2>&1 | grep -E "pp512" | cut -d'|' -f9- | sed "s/^/$s wide=$cfg /"
  done
done
