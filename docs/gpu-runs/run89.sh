#!/bin/bash
# The Q4_K/Q6_K split limited to one wave of split groups: 27B (now unsplit), 8B and 7B (split) tg128.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen gemma3-27b q4_k & gen llama3-8b q4_k & gen qwen2.5-7b q4_k & wait
ub() { timeout 90 .gl/bin/unicorn-bench --backend vulkan -m $1 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
for s in gemma3-27b-q4_k llama3-8b-q4_k qwen2.5-7b-q4_k; do echo "$s $(ub /tmp/$s.gguf) $(ub /tmp/$s.gguf)"; done
