#!/bin/bash
# The wide tile with f16 sums where it makes 20/31 the rounds, BK 64 for the K-quants: tests, kernels, pp512/tg128.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_k; gen qwen2.5-7b q4_0; gen gemma3-27b q4_0) &
xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
B=.gl/bin
echo "=== test-vk-ops"
timeout 200 $B/test-vk-ops > /tmp/ops.txt 2>&1; echo rc=$?
grep -E "FAIL|passed|choice" /tmp/ops.txt | tail -4
CASES="mm:q4_k:18944:3584:512 mm:q4_k:3584:18944:512 mm:q4_0:18944:3584:512 mm:q4_k:21504:5376:512 mm:q4_0:21504:5376:512"
for cfg in "WIDE=0" "WIDE=1"; do
  echo "=== kernels $cfg"
  env UNICORN_VK_CM2_$cfg timeout 90 $B/vk-kernel-bench -r 20 $CASES 2>&1 | grep -v "^coopmat tile"
done
echo "=== test-vk-models"
UNICORN_FIXTURES=$PWD/tests/fixtures timeout 120 $B/test-vk-models > /tmp/m.txt 2>&1; echo rc=$?
grep -E "FAIL|fail" /tmp/m.txt | cut -c1-150 | tail -8
for s in qwen2.5-7b-q4_k qwen2.5-7b-q4_0 gemma3-27b-q4_0; do
  m=/tmp/$s.gguf
  for i in $(seq 1 400); do [ -f $m ] && ! pgrep -f "/tmp/$s.gguf" >/dev/null && break; sleep 1; done
  echo "=== $s"
  timeout 100 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-
  UNICORN_VK_CM2_WIDE=0 timeout 60 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | cut -d'|' -f9- | sed 's/^/narrow only /'
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128|error"
  rm -f $m
done
