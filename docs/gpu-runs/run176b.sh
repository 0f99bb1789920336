#!/bin/bash
# Thirty-second session: run176a.sh cut to ~200 s after eleven failed starts: the bound weights' and the
# header prefetch's kernel figures, and test-vk-ops matmul with the bound form on (it also checks the
# four-group split form of the mat-vecs, which the switch leaves alone).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run176b.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
bindbench | tee -a $R
(SECONDS=0; UNICORN_VK_CM2_BIND=1 timeout 120 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul (BIND=1) rc $? ${SECONDS}s") | tee -a $R
grep -m4 "check failed\|four-group\|matmul cases\|CM2_BIND" $OUT/o-mm.txt | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
