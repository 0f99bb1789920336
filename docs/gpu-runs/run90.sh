#!/bin/bash
# Build 57d9037 on the rows this session's change does not touch (Q4_0, Q8_0, Q4_1), tg128 twice,
# llama.cpp beside in the same run.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen gemma3-1b q8_0 & gen qwen2.5-7b q4_0 & gen qwen2.5-0.5b q4_0 & gen smollm2-135m q4_1 & wait
xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
ub() { timeout 60 .gl/bin/unicorn-bench --backend vulkan -m $1 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
for s in gemma3-1b-q8_0 qwen2.5-7b-q4_0 qwen2.5-0.5b-q4_0 smollm2-135m-q4_1; do
  echo "$s $(ub /tmp/$s.gguf) $(ub /tmp/$s.gguf)"
  echo "$s llama.cpp $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 60 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep tg128 | cut -d'|' -f8-)"
done
