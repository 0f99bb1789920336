#!/bin/bash
# Written in the thirty-eighth session, not run then (no machine); run in the fortieth on an H100, .gl/bin
# from c65e6aa (run191-results.txt: both pass). Both GPU tests in full on the thirty-eighth
# session's build (the last full run of test-vk-ops on a GPU was e562112's, run168.sh): test-vk-models with its
# new batched decode of 11 sequences, then test-vk-ops.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run191.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
(SECONDS=0; UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 150 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-240)") | tee -a $R
grep -c "batched decode of 3 and 11" $OUT/m.txt | tee -a $R
left=$((570 - SECONDS))
(SECONDS=0; timeout $left stdbuf -oL $B/test-vk-ops 2>&1; echo "rc $?") |
  while IFS= read -r l; do echo "$SECONDS $l"; done > $OUT/o.txt
echo "test-vk-ops $(tail -1 $OUT/o.txt | cut -d' ' -f2-3): $(grep -m1 'check failed\|SKIP' $OUT/o.txt | cut -c1-240)" | tee -a $R
tail -5 $OUT/o.txt | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
