#!/bin/bash
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
B=.gl/bin
xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
python3 tools/gen-random-gguf.py qwen2.5-7b q4_0 /tmp/m7.gguf > /dev/null &
python3 tools/gen-random-gguf.py gemma3-4b q4_0 /tmp/m4.gguf > /dev/null &
for e in "UNICORN_VK_ATTN_CM=0" "UNICORN_VK_ATTN_CM=1" "UNICORN_VK_COOPMAT2=0"; do
  echo "== fixture gemma3-q4_0 $e"
  env $e UNICORN_FIXTURES=$PWD/.gl/fx timeout 25 $B/test-vk-models 2>&1 | tail -n 3 | cut -c1-200; echo "rc ${PIPESTATUS[0]}"
done
wait
for m in m4 m7; do
  echo "== $m"
  UNICORN_VK_ATTN_CM=0 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 3 2>&1 | tail -n 1
  $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 3 2>&1 | tail -n 1
  LD_LIBRARY_PATH=$PWD/.gl/lib /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 -p 512 -n 0 -r 3 2>&1 | grep pp512
done
