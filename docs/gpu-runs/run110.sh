#!/bin/bash
# Written 2026-12-05 (nineteenth session) after run109.sh: on the H100, attn_cm.comp fails
# test-vk-ops attn-quick (d=128 heads 4/2 nt=100 p0=0: NMSE 1.92) and test-vk-models (llama-f32 prompt,
# NMSE 0.207) at a11658c, splits or not. 2e17415 passed both on the H200 (run104.sh). Bisect: the tests
# of 2e17415 and 3b1a5cc on this H100, and HEAD with other attn_cm shapes.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; B=.gl/bin
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run110.txt
t() { local n=$1; shift; env "$@" timeout 150 stdbuf -oL -eL $B/$n attn-quick > $OUT/o.txt 2>&1
  echo "$n $* rc $?: $(grep -m1 'check failed' $OUT/o.txt | cut -c1-200)"; }
{ t test-vk-ops-2e17415 X=1; t test-vk-ops-3b1a5cc X=1
  for s in 128,32,1 64,64,1 128,64,2 64,32,1; do t test-vk-ops UNICORN_VK_ATTN_CM_SHAPE=$s; done
  for n in test-vk-models-2e17415 test-vk-models-3b1a5cc; do timeout 60 $B/$n > $OUT/o.txt 2>&1; echo "$n rc $?: $(grep -m1 'check failed' $OUT/o.txt | cut -c1-200)"; done
} | tee -a $OUT/run110.txt
