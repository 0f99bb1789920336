#!/bin/bash
# Thirtieth session, call 5. A decode layer's kernels alone (vk-kernel-bench, weights rotating past L2), to
# set their sum against the step's time per layer: Qwen2.5 7B Q4_0 and Gemma 3 27B Q4_0 shapes, twice.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
C7="empty mvs:q4_0:3584:3584 mvs:q4_0:512:3584 attn:28,4,128,64 mvq:q4_0:3584:3584 glus:q4_0:18944:3584 quantx:18944 mvq:q4_0:3584:18944 norm:3584"
C27="mvs:q4_0:4096:5376 mvs:q4_0:2048:5376 attn:32,16,128,64 mvq:q4_0:5376:4096 glus:q4_0:21504:5376 quantx:21504 mvq:q4_0:5376:21504 mvq:q4_0:262144:5376"
timeout 60 $B/vk-kernel-bench -r 20 mvq:q4_0:3584:3584 >/dev/null 2>&1
for i in 1 2; do timeout 120 $B/vk-kernel-bench -r 200 $C7 $C27 2>&1 | grep -v "^#"; done | tee -a $OUT/run172.txt
echo "total ${SECONDS}s" | tee -a $OUT/run172.txt
