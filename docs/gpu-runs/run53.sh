#!/bin/bash
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
UNICORN_VK_ATTN_CM=0 UNICORN_FIXTURES=$PWD/.gl/fx .gl/bin/test-vk-models-dbg > /tmp/o.txt 2>&1 &
pid=$!
for i in $(seq 1 20); do sleep 5; kill -0 $pid 2>/dev/null || break; done
cut -c1-160 /tmp/o.txt
if kill -0 $pid 2>/dev/null; then
  echo "still running after $((i*5)) s"; ps -L -o tid,stat,pcpu,wchan:30,comm -p $pid | head -12
  nvidia-smi --query-gpu=utilization.gpu,power.draw --format=csv
  kill -9 $pid
fi
