#!/bin/bash
# f16 sums in the NV workgroup-scope prefill kernel (UNICORN_VK_CM2_ACC16): accuracy, kernel speed, pp512.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
(python3 tools/gen-random-gguf.py gemma3-4b q4_0 /tmp/g4.gguf >/dev/null; python3 tools/gen-random-gguf.py qwen2.5-7b q4_0 /tmp/q7.gguf > /dev/null) &
gpid=$!
xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
B=.gl/bin
echo "=== test-vk-ops acc16 bn256"
UNICORN_TEST_VERBOSE=1 UNICORN_VK_CM2_ACC16=1 UNICORN_VK_CM2_BN=256 timeout 200 $B/test-vk-ops > /tmp/ops.txt 2>&1; echo rc=$?
grep -E "cm2h|FAIL|passed|coopmat2" /tmp/ops.txt | sort -t: -k3 | tail -25
CASES="mm:q4_0:21504:5376:512 mm:q4_0:5376:21504:512 mm:q4_0:4096:5376:512 mm:q4_0:18944:3584:512 mm:q4_0:10240:2560:512 mm:q4_k:18944:3584:512 mm:q8_0:6912:1152:512"
for cfg in "ACC16=0 BN=128 BK=64" "ACC16=1 BN=128 BK=64" "ACC16=1 BN=256 BK=64" "ACC16=1 BN=256 BK=32" "ACC16=0 BN=256 BK=32"; do
  set -- $cfg
  echo "=== kernels $cfg"
  env UNICORN_VK_CM2_$1 UNICORN_VK_CM2_$2 UNICORN_VK_CM2_$3 timeout 90 $B/vk-kernel-bench -r 20 $CASES 2>&1 | grep -v "^coopmat tile"
done
echo "=== test-vk-models acc16 bn256"
UNICORN_VK_CM2_ACC16=1 UNICORN_VK_CM2_BN=256 UNICORN_FIXTURES=$PWD/tests/fixtures timeout 120 $B/test-vk-models > /tmp/m.txt 2>&1; echo rc=$?
grep -E "NMSE|FAIL|fail|passed|ok" /tmp/m.txt | cut -c1-150 | tail -30
wait $gpid
for m in /tmp/g4.gguf /tmp/q7.gguf; do
  for cfg in "ACC16=0 BN=128 BK=64" "ACC16=1 BN=256 BK=64" "ACC16=1 BN=256 BK=32"; do
    set -- $cfg
    echo "=== pp $m $cfg"
    env UNICORN_VK_CM2_$1 UNICORN_VK_CM2_$2 UNICORN_VK_CM2_$3 timeout 60 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 3 2>&1 | tail -2
  done
  echo "=== llama $m"
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 90 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 0 -r 3 2>&1 | grep -E "pp512|error"
done
