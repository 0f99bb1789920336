#!/bin/bash
# Written 2026-12-05 (fourteenth session), after run99.sh: single kernels at the shapes of the two rows
# furthest below llama.cpp in prefill (Gemma 3 1B Q4_0, Gemma 3 27B Q4_K), to set beside llama.cpp's
# per-op times in run99.sh's logs: the products (mm:TYPE:N:K:512) and the prefill attention
# (attnpf) with its shapes (UNICORN_VK_ATTN_CM_SHAPE=nt,bkv,ds), also after 3,584 positions of context.
# Run from the repository root as `bash .gl/run100.sh` after copying it there.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
K=".gl/bin/vk-kernel-bench -r 50"
$K mm:q4_0:1024:1152:512 mm:q4_0:1152:1024:512 mm:q4_0:1152:6912:512 mm:q4_0:256:1152:512 \
   mm:q4_0:1536:1152:512 mm:q4_0:6912:1152:512 mm:q4_0:13824:1152:512 \
   mm:q4_k:2048:5376:512 mm:q4_k:21504:5376:512 mm:q4_k:4096:5376:512 mm:q4_k:5376:21504:512 \
   mm:q4_k:5376:4096:512 mm:q4_k:8192:5376:512 2>&1 | grep -v "^coopmat tile"
for sh in def 64,32,1 64,64,1 128,64,1 128,32,2 256,32,2 256,32,1; do
  e=X=1; [ $sh != def ] && e=UNICORN_VK_ATTN_CM_SHAPE=$sh
  echo "shape $sh: $(export $e; $K attnpf:32,16,128,512 attnpf:32,16,128,512,3584 attnpf:32,8,128,512 2>&1 | grep ^attnpf | awk '{print $2, $3}' | tr '\n' ' ')"
done
for sh in def 256,32,4 256,32,8 128,16,4 128,32,2 64,32,2 64,32,1; do
  e=X=1; [ $sh != def ] && e=UNICORN_VK_ATTN_CM_SHAPE=$sh
  echo "shape $sh: $(export $e; $K attnpf:4,1,256,512 attnpf:4,1,256,512,3584 attnpf:8,4,256,512 2>&1 | grep ^attnpf | awk '{print $2, $3}' | tr '\n' ' ')"
done
