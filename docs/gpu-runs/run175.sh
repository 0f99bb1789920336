#!/bin/bash
# Thirtieth session, call 8: written, not run (the device time ran out). .gl/bin: the four-group split form for long rows past one wave (default on
# where the multiprocessor count is known). test-vk-ops matmul: every 8-bit mat-vec case also in that
# form (forced at every size), then the 27B shape's down product both ways.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run175.txt
(SECONDS=0; timeout 150 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul rc $? ${SECONDS}s") | tee -a $OUT/run175.txt
grep -m3 "check failed\|four-group\|matmul cases" $OUT/o-mm.txt | tee -a $OUT/run175.txt
for e in X=1 UNICORN_VK_MV8_SPLIT4=0; do echo "$e: $(env $e timeout 20 $B/vk-kernel-bench -r 200 mvq:q4_0:5376:21504 mvq:q4_0:3584:18944 2>&1 | grep ^mv | awk '{print $5}' | tr '\n' ' ')"; done | tee -a $OUT/run175.txt
