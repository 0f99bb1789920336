#!/bin/bash
# Written 2026-12-05 (thirteenth session, no GPU lent): the NV prefill kernel's changes of that
# session, kernel by kernel. test-vk-ops with its Q4_K/Q5_K headers loaded where used and its
# Q4_0/Q5_0/Q8_0 decode in f32 (UNICORN_VK_CM2_PIPE=0 UNICORN_VK_CM2_DEC16=0), and with the loop of
# the latter types unrolled over 512 columns (UNICORN_VK_CM2_UNROLL=512); run92.sh runs it with the
# defaults. Then vk-kernel-bench on the 7B, 27B and 1B shapes, alternating defaults / both off, and
# the 512-column unroll on the Q4_0/Q8_0/Q5_0 shapes; Q6_K on the NV kernel (UNICORN_VK_CM2_Q6K=1,
# scales staged) against the KHR kernel. Whole models: run93.sh (variants cm2old and unroll512).
# .gl/bin: vk-kernel-bench and test-vk-ops built from the commit adding Q6_K or later.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
B=.gl/bin
UNICORN_VK_CM2_PIPE=0 UNICORN_VK_CM2_DEC16=0 timeout 150 $B/test-vk-ops 2>&1 | tail -2
UNICORN_VK_CM2_UNROLL=512 UNICORN_VK_CM2_Q6K=1 timeout 150 $B/test-vk-ops 2>&1 | tail -2
K="mm:q4_k:18944:3584:512 mm:q4_k:3584:18944:512 mm:q4_k:21504:5376:512 mm:q4_k:3584:3584:512"
L="mm:q4_0:18944:3584:512 mm:q4_0:3584:18944:512 mm:q4_0:21504:5376:512 mm:q8_0:6912:1152:512"
L="$L mm:q5_0:1024:640:512"
for v in 1 0 1 0; do
  echo "cm2 pipe, dec16 = $v"
  UNICORN_VK_CM2_PIPE=$v UNICORN_VK_CM2_DEC16=$v timeout 90 $B/vk-kernel-bench -r 20 $K $L 2>&1 | grep -E "^mm"
  echo "cm2 unroll 512"
  UNICORN_VK_CM2_UNROLL=512 timeout 60 $B/vk-kernel-bench -r 20 $L 2>&1 | grep -E "^mm"
done
# Q6_K (the v and down projections of about half the layers of llama.cpp's Q4_K_M files): the KHR
# kernel (default) / the NV kernel with staged scales, twice.
Q="mm:q6_k:3584:18944:512 mm:q6_k:512:3584:512 mm:q6_k:2560:10240:512 mm:q6_k:5376:21504:512"
for v in 0 1 0 1; do
  echo "cm2 q6k = $v"
  UNICORN_VK_CM2_Q6K=$v timeout 60 $B/vk-kernel-bench -r 20 $Q 2>&1 | grep -E "^mm"
done
