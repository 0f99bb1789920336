#!/bin/bash
# Written 2026-12-05 (twentieth session): run121.sh's test-vk-models stopped at its seventh fixture,
# unable to create a Vulkan instance (VK_ERROR_INCOMPATIBLE_DRIVER). .gl/bin/test-vk-models: the
# engine keeps one instance for the process (vk-device.c instance_get); test-vk-models-old: run121.sh's
# (an instance a device). Each with its open descriptors and threads sampled every 5 s (as run, the
# samples were of timeout(1)'s process, not the test's: they say nothing).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
for b in test-vk-models:80 test-vk-models-old:55; do
  timeout ${b#*:} $B/${b%:*} > $OUT/${b%:*}.txt 2>&1 & pid=$!
  while kill -0 $pid 2>/dev/null; do
    echo "$(ls /proc/$pid/fd 2>/dev/null | wc -l) fds $(ls /proc/$pid/task 2>/dev/null | wc -l) threads $(grep -c . /proc/$pid/maps 2>/dev/null) maps"; sleep 5
  done > $OUT/${b%:*}-fds.txt
  wait $pid; echo "${b%:*} rc $?: $(grep -m1 'check failed\|SKIP' $OUT/${b%:*}.txt | cut -c1-200)"
  echo "  $(tr '\n' ';' < $OUT/${b%:*}-fds.txt)"
done | tee $OUT/run122.txt
