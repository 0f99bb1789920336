#!/bin/bash
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
B=.gl/bin
(python3 tools/gen-random-gguf.py qwen2.5-7b q4_0 /tmp/m7.gguf > /dev/null; python3 tools/gen-random-gguf.py gemma3-4b q4_0 /tmp/m4.gguf > /dev/null) &
$B/test-vk-ops > $OUT/ops.txt 2>&1; rc=$?; echo "ops rc $rc"; grep -i "attention\|passed\|FAIL\|fail" $OUT/ops.txt | head -20
[ $rc = 0 ] || exit 1
UNICORN_FIXTURES=$PWD/tests/fixtures $B/test-vk-models > $OUT/models.txt 2>&1; echo "models rc $?"; tail -n 12 $OUT/models.txt
wait
for m in m4 m7; do
  echo "== $m"
  UNICORN_VK_ATTN_CM=0 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 3 2>&1 | tail -n 1
  $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 3 2>&1 | tail -n 1
done
python3 tools/gen-random-gguf.py gemma3-27b q4_0 /tmp/m27.gguf > /dev/null &
echo "== 7B profile"; UNICORN_VK_PROFILE=1 $B/unicorn-bench --backend vulkan -m /tmp/m7.gguf -p 512 -n 0 -r 2 2>&1 | grep "pipe 10[48]\|pipe 128"
UNICORN_VK_ATTN_CM=0 $B/unicorn-bench --backend vulkan -m /tmp/m4.gguf -p 512 -n 0 -r 3 2>&1 | tail -n 1
$B/unicorn-bench --backend vulkan -m /tmp/m4.gguf -p 512 -n 0 -r 3 2>&1 | tail -n 1
wait
echo "== 27B"
UNICORN_VK_ATTN_CM=0 $B/unicorn-bench --backend vulkan -m /tmp/m27.gguf -p 512 -n 0 -r 2 2>&1 | tail -n 1
$B/unicorn-bench --backend vulkan -m /tmp/m27.gguf -p 512 -n 0 -r 2 2>&1 | tail -n 1
