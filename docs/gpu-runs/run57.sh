#!/bin/bash
# The NV kernel's wide tile (256 tokens, BK 32) chosen by rounds of workgroups: tests, kernels, 27B pp512.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
python3 tools/gen-random-gguf.py gemma3-27b q4_0 /tmp/g27.gguf >/dev/null &
gpid=$!
xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
B=.gl/bin
echo "=== test-vk-ops"
timeout 200 $B/test-vk-ops > /tmp/ops.txt 2>&1; echo rc=$?
grep -E "FAIL|passed|coopmat2|choice" /tmp/ops.txt | tail -6
echo "=== test-vk-ops acc16"
UNICORN_VK_CM2_ACC16=1 timeout 200 $B/test-vk-ops > /tmp/ops.txt 2>&1; echo rc=$?
grep -E "FAIL|passed" /tmp/ops.txt | tail -4
CASES="mm:q4_0:21504:5376:512 mm:q4_0:5376:21504:512 mm:q4_0:5376:4096:512 mm:q4_0:4096:5376:512 mm:q4_0:2048:5376:512 mm:q4_0:21504:5376:2048 mm:q4_k:21504:5376:512"
for cfg in "WIDE=0 ACC16=0" "WIDE=1 ACC16=0" "WIDE=1 ACC16=1"; do
  set -- $cfg
  echo "=== kernels $cfg"
  env UNICORN_VK_CM2_$1 UNICORN_VK_CM2_$2 timeout 90 $B/vk-kernel-bench -r 20 $CASES 2>&1 | grep -v "^coopmat tile"
done
echo "=== test-vk-models"
UNICORN_FIXTURES=$PWD/tests/fixtures timeout 120 $B/test-vk-models > /tmp/m.txt 2>&1; echo rc=$?
grep -E "FAIL|fail|passed" /tmp/m.txt | cut -c1-150 | tail -5
date; wait $gpid; date; ls -la /tmp/g27.gguf
m=/tmp/g27.gguf
for cfg in "WIDE=0 ACC16=0" "WIDE=1 ACC16=0" "WIDE=1 ACC16=1" "WIDE=0 ACC16=0"; do
  set -- $cfg
  echo "=== pp $m $cfg"
  env UNICORN_VK_CM2_$1 UNICORN_VK_CM2_$2 timeout 90 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 3 2>&1 | tail -1
done
echo "=== llama $m"
LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 0 -r 3 2>&1 | grep -E "pp512|error"
