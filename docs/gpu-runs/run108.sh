#!/bin/bash
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; B=.gl/bin
timeout 40 stdbuf -oL -eL $B/test-vk-models > $OUT/test-vk-models.txt 2>&1; echo "test-vk-models rc $?"; grep -m3 "check failed\|llama-f32.gguf " $OUT/test-vk-models.txt
timeout 55 stdbuf -oL -eL $B/test-vk-ops attn-quick > $OUT/test-vk-ops.txt 2>&1; echo "test-vk-ops rc $?"; grep "check failed\|splits)" $OUT/test-vk-ops.txt | head -12
