#!/bin/bash
# Written 2026-12-05 (nineteenth session) after run110.sh: 3b1a5cc's tests pass on this H100, a11658c's
# fail in attn_cm.comp. test-vk-ops (a11658c) with three forms of attn_cm.comp: A 49d86fc's (AHEAD, no
# split), B a11658c's without the split's tail, C a11658c's with the split's tail and the output in if/else
# (no early return from main).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; B=.gl/bin
t() { local n=$1; shift; env "$@" timeout 150 stdbuf -oL -eL $B/$n attn-quick > $OUT/o.txt 2>&1
  echo "$n $* rc $?: $(grep -m1 'check failed' $OUT/o.txt | cut -c1-200)"; }
{ t test-vk-ops-A X=1; t test-vk-ops-B X=1; t test-vk-ops-C X=1; t test-vk-ops-C UNICORN_VK_ATTN_PF_SPLITS=auto; } | tee -a $OUT/run111.txt
