#!/bin/bash
# Written 2026-12-06 (twenty-fifth session), not yet run (up to ~9 min: the GPU tests alone up to 7). .gl/bin: the
# commit named in .gl/bin/BUILT_FROM (the WRAP form of attn_cm2 by default; the O16 forms with
# UNICORN_VK_ATTN_CM2_O16=1). Then run139.sh (the O16 benches).
# Both GPU tests. test-vk-ops now: the split cases expect the wrapped one on the WRAP form (run137.sh stopped
# there); the big wrapped steps on the WRAP form (not yet run on a GPU); the O16 forms (O summed in f16, as
# llama.cpp's kernel of this kind) at the default blocks and 64 query rows, with a bound of 1e-4, their NMSE
# printed. Each line of o.txt starts with the seconds since the script began (what takes test-vk-ops 300 s?
# A fresh machine's first pipeline compiles are the suspect: the call after run137.sh, `test-vk-ops attn` alone, printed nothing
# for 100 s after its host checks).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run138.txt
# A cold first load (no pipeline cache of ours or the driver's: a fresh XDG_CACHE_HOME) of Gemma 3 1B Q4_0
# and one step, the pipelines made on 8 threads (the default since this build) against one after another.
gen gemma3-1b q4_0
for e in UNICORN_VK_PIPE_THREADS=1 X=1; do
  rm -rf /tmp/vkcold; t0=$EPOCHREALTIME
  env $e XDG_CACHE_HOME=/tmp/vkcold timeout 300 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-1b-q4_0.gguf -p 1 -n 1 \
    -r 1 > /dev/null 2>&1
  echo "cold load and a step, $e: $(python3 -c "print(round($EPOCHREALTIME - $t0, 1))") s" | tee -a $OUT/run138.txt
done
SECONDS=0; gputests | tee -a $OUT/run138.txt; echo "gputests ${SECONDS}s" | tee -a $OUT/run138.txt
grep -c "NV, attn_cm2" $OUT/o.txt | tee -a $OUT/run138.txt
grep -A30 "O16=1" $OUT/o.txt | grep "d=256\|O16" | tee -a $OUT/run138.txt
# the lines that came more than 10 s after the one before them (what took the time), with that wait
awk '{ if (NR > 1 && $1 - p > 10) print $1 - p "s before: " substr($0, 1, 160); p = $1 }' $OUT/o.txt | tee -a $OUT/run138.txt
