#!/bin/bash
# Run 2026-12-05 (nineteenth session) after run114.sh, same machine: .gl/bin's tests rebuilt with the
# split on by default, from the working tree that became 696357a before its last host edit (no split
# and no scratch where the multiprocessor count is unknown; on NVIDIA the count is known, so the same).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; B=.gl/bin
timeout 60 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $?: $(grep -m1 'check failed' $OUT/m.txt)"
timeout 150 $B/test-vk-ops > $OUT/o.txt 2>&1; echo "test-vk-ops rc $?: $(grep -m1 'check failed' $OUT/o.txt)"; grep "splits)" $OUT/o.txt | head -3
