#!/bin/bash
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
probe() { # name limit env...
  name=$1; lim=$2; shift 2
  echo "=== $name"
  env "$@" .gl/bin/test-vk-models > /tmp/$name.txt 2>&1 &
  pid=$!
  for i in $(seq 1 $lim); do sleep 1; kill -0 $pid 2>/dev/null || break; done
  grep -E "loading|loaded|NMSE|FAIL|fail" /tmp/$name.txt | cut -c1-130 | tail -40
  if kill -0 $pid 2>/dev/null; then echo "still running after $i s"; kill -9 $pid; fi
  wait $pid; echo "rc=$?"
}
probe all_cold 250 UNICORN_FIXTURES=$PWD/tests/fixtures
ls -la /tmp/vkc/unicorn
probe all_warm 120 UNICORN_FIXTURES=$PWD/tests/fixtures
timeout 150 .gl/bin/test-vk-ops 2>&1 | tail -3
