#!/bin/bash
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
which gdb eu-stack 2>&1 | head -2
probe() { # name limit env...
  name=$1; lim=$2; shift 2
  echo "=== $name"
  env "$@" .gl/bin/test-vk-models > /tmp/$name.txt 2>&1 &
  pid=$!
  for i in $(seq 1 $lim); do sleep 1; kill -0 $pid 2>/dev/null || break; done
  cut -c1-150 /tmp/$name.txt | tail -30
  if kill -0 $pid 2>/dev/null; then
    echo "still running after $i s"; ps -L -o tid,stat,pcpu,wchan:30,comm -p $pid | head -14
    for t in /proc/$pid/task/*; do echo "-- $t"; head -8 $t/stack 2>/dev/null; done | head -60
    nvidia-smi --query-gpu=utilization.gpu,power.draw,memory.used --format=csv
    command -v gdb >/dev/null && timeout 30 gdb -p $pid -batch -ex "thread apply all bt 12" 2>&1 | grep -E "^#|^Thread" | head -50
    kill -9 $pid
  fi
}
probe one_cold 200 UNICORN_FIXTURES=$PWD/.gl/fx
probe one_warm 60 UNICORN_FIXTURES=$PWD/.gl/fx
probe one_nocm2 60 UNICORN_FIXTURES=$PWD/.gl/fx UNICORN_VK_COOPMAT2=0
ls -la /tmp/vkc/* 2>/dev/null | head
