#!/bin/bash
# For the thirty-fifth session's second call (~600 s): both GPU tests in full on the defaults of the build in
# .gl/bin (they last ran in full on e562112, run168.sh; only test-vk-ops matmul ran since).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
gputests | tee -a $OUT/run180a.txt
echo "total ${SECONDS}s" | tee -a $OUT/run180a.txt
