#!/bin/bash
# Run 2026-12-05 (nineteenth session) after run112.sh, same machine and .gl/bin: the prefill attention
# kernel alone, without and with its split over positions (by the multiprocessor count, or forced).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
B=.gl/bin
C="attnpf:28,4,128,512 attnpf:28,4,128,512,3584 attnpf:4,1,256,512 attnpf:4,1,256,512,3584 attnpf:32,16,128,512,3584 attnpf:8,4,256,512,3584"
for e in X=1 UNICORN_VK_ATTN_PF_SPLITS=auto UNICORN_VK_ATTN_PF_SPLITS=8 UNICORN_VK_ATTN_PF_SPLITS=4; do echo "$e: $(env $e timeout 60 $B/vk-kernel-bench -r 50 $C 2>&1 | grep '^attnpf' | awk '{print $3}' | tr '\n' ' ')"; done
