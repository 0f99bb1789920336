#!/bin/bash
# Thirtieth session, call 1. .gl/bin: e562112 plus the staged prefetch sites (UNICORN_VK_PF_STAGED, off by
# default, so the defaults are e562112's). (1) Both GPU tests in full on the final defaults (the
# twenty-ninth session's test-vk-ops attn stopped at 185 s in the CLAMP=1 f32 loop). (2) The models of
# the next calls generated beside them.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run168.txt
(gen qwen2.5-7b q4_0; gen qwen2.5-7b q4_k; gen gemma3-27b q4_0; echo "gen done ${SECONDS}s" >> $OUT/run168.txt) &
gputests | tee -a $OUT/run168.txt
grep -c "passed\|ok" $OUT/o.txt | sed 's/^/o.txt ok lines: /' | tee -a $OUT/run168.txt
tail -4 $OUT/o.txt | tee -a $OUT/run168.txt
wait
ls -la /tmp/*.gguf | tee -a $OUT/run168.txt
echo "total ${SECONDS}s" | tee -a $OUT/run168.txt
