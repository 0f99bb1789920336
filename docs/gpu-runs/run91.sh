#!/bin/bash
# Q4_0 and Q8_0 mat-vec units of 64 weights (two blocks: one scale word, contiguous quants) against
# 8192e8a (-old): kernels, then tg128 of 1B Q8_0 and 7B Q4_0, with U = 2 (default) and U = 1.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-1b q8_0 & gen qwen2.5-7b q4_0 & wait) &
B=.gl/bin
K="gluq:q4_0:18944:3584 mvq:q4_0:3584:18944 mvq:q4_0:3584:3584 gluq:q8_0:6912:1152 mvq:q8_0:1152:6912 mvq:q8_0:1024:1152"
echo "== old"; timeout 40 $B/vk-kernel-bench-old -r 200 $K 2>&1 | grep -E "^(mv|glu)"
echo "== new"; timeout 40 $B/vk-kernel-bench -r 200 $K 2>&1 | grep -E "^(mv|glu)"
echo "== new u1"; (export UNICORN_VK_MV8=1,1; timeout 40 $B/vk-kernel-bench -r 200 $K 2>&1 | grep -E "^(mv|glu)")
wait
ub() { timeout 40 $1 --backend vulkan -m $2 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
for s in gemma3-1b-q8_0 qwen2.5-7b-q4_0; do
  for v in old new u1 old new; do
    b=$B/unicorn-bench; [ $v = old ] && b=$B/unicorn-bench-old
    e="X=1"; [ $v = u1 ] && e="UNICORN_VK_MV8=1,1"
    echo "$s $v $(export $e; ub $b /tmp/$s.gguf)"
  done
done
