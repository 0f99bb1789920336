#!/bin/bash
# Written 2026-12-06 (twenty-eighth session), not yet run (~5 min). .gl/bin: a build from 3ef4ac8 on.
# (1) test-vk-ops with the NV prefill attention's f32-O cases on f32 cache rows too (new in 3ef4ac8,
# never run on a GPU), and test-vk-models. (2) Gemma 3 270M Q4_0, the one row where Q4_0's word-wise
# decode (the default since 2b17897) read lower (-14% and -2.2% medians in run150.sh / run152.sh, its own
# runs 50-65k): six runs each way alternating, after a throwaway run, with llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run157.txt
gen gemma3-270m q4_0 &
gputests | tee -a $OUT/run157.txt
grep -A3 "O16=0.*f32 rows" $OUT/o.txt | head -8 | tee -a $OUT/run157.txt
wait
timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-270m-q4_0.gguf -p 512 -n 0 -r 8 >/dev/null 2>&1
W="X=1 UNICORN_VK_CM2_WORD=0"
sweep gemma3-270m-q4_0 $W $W $W $W $W $W | tee -a $OUT/run157.txt
echo "total ${SECONDS}s" | tee -a $OUT/run157.txt
