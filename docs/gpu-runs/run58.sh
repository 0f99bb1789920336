#!/bin/bash
# Defaults after the wide tile and f16 sums: tests; pp512/tg128 side by side with llama.cpp; 27B profile.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-4b q4_0; gen qwen2.5-7b q4_0; gen qwen2.5-7b q4_k; gen gemma3-27b q4_0) &
xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
B=.gl/bin
echo "=== test-vk-ops"
UNICORN_TEST_VERBOSE=1 timeout 200 $B/test-vk-ops > /tmp/ops.txt 2>&1; echo rc=$?
grep -E "FAIL|passed" /tmp/ops.txt | tail -4; grep cm2h /tmp/ops.txt | sort -g -k9 | tail -3
echo "=== test-vk-models"
UNICORN_FIXTURES=$PWD/tests/fixtures timeout 120 $B/test-vk-models > /tmp/m.txt 2>&1; echo rc=$?
grep -E "FAIL|fail|default act" /tmp/m.txt | cut -c1-150 | tail -8
for s in gemma3-4b-q4_0 qwen2.5-7b-q4_0 qwen2.5-7b-q4_k gemma3-27b-q4_0; do
  m=/tmp/$s.gguf
  for i in $(seq 1 400); do [ -f $m ] && ! pgrep -f "/tmp/$s.gguf" >/dev/null && break; sleep 1; done
  echo "=== $s"
  timeout 100 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128"
  UNICORN_VK_CM2_ACC16=0 timeout 60 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | sed 's/^/acc32 /'
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128|error"
  [ $s = gemma3-27b-q4_0 ] || rm -f $m
done
echo "=== 27B profile"
UNICORN_VK_PROFILE=1 timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-27b-q4_0.gguf -p 512 -n 0 -r 1 2>&1 | tail -30
