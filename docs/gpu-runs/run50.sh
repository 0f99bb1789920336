#!/bin/bash
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
B=.gl/bin
python3 tools/gen-random-gguf.py qwen2.5-7b q4_0 /tmp/m7.gguf > /dev/null &
python3 tools/gen-random-gguf.py gemma3-4b q4_0 /tmp/m4.gguf > /dev/null
$B/test-vk-ops > $OUT/ops-default.txt 2>&1; echo "ops default rc $?"; tail -n 2 $OUT/ops-default.txt
UNICORN_VK_COOPMAT2=1 $B/test-vk-ops > $OUT/ops-cm2all.txt 2>&1; echo "ops cm2=1 rc $?"; tail -n 2 $OUT/ops-cm2all.txt
echo "== 4B"; UNICORN_VK_PROFILE=1 $B/unicorn-bench --backend vulkan -m /tmp/m4.gguf -p 512 -n 0 -r 2 2>&1 | tail -n 25
wait
python3 tools/gen-random-gguf.py gemma3-27b q4_0 /tmp/m27.gguf > /dev/null &
echo "== 7B"; UNICORN_VK_PROFILE=1 $B/unicorn-bench --backend vulkan -m /tmp/m7.gguf -p 512 -n 0 -r 2 2>&1 | tail -n 25
echo "== 7B noprof"; $B/unicorn-bench --backend vulkan -m /tmp/m7.gguf -p 512 -n 0 -r 3 2>&1 | tail -n 3
wait
echo "== 27B"; UNICORN_VK_PROFILE=1 $B/unicorn-bench --backend vulkan -m /tmp/m27.gguf -p 512 -n 0 -r 1 2>&1 | tail -n 25
