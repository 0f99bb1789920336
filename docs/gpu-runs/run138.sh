#!/bin/bash
# Written 2026-12-06 (twenty-fifth session), not yet run (up to ~8 min: the GPU tests alone). .gl/bin: the
# commit named in .gl/bin/BUILT_FROM (the WRAP form of attn_cm2 by default; the O16 forms with
# UNICORN_VK_ATTN_CM2_O16=1). Then run139.sh (the O16 benches).
# Both GPU tests. test-vk-ops now: the split cases expect the wrapped one on the WRAP form (run137.sh stopped
# there); the big wrapped steps on the WRAP form (not yet run on a GPU); the O16 forms (O summed in f16, as
# llama.cpp's kernel of this kind) at the default blocks and 64 query rows, with a bound of 1e-4, their NMSE
# printed. Each line of o.txt starts with the seconds since the script began (what takes test-vk-ops 300 s?
# A fresh machine's first pipeline compiles are the suspect: run137.sh's `test-vk-ops attn` printed nothing
# for 100 s after its host checks).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run138.txt
SECONDS=0; gputests | tee -a $OUT/run138.txt; echo "gputests ${SECONDS}s" | tee -a $OUT/run138.txt
grep -c "NV, attn_cm2" $OUT/o.txt | tee -a $OUT/run138.txt
grep -A30 "O16=1" $OUT/o.txt | grep "d=256\|O16" | tee -a $OUT/run138.txt
# the lines that came more than 10 s after the one before them (what took the time), with that wait
awk '{ if (NR > 1 && $1 - p > 10) print $1 - p "s before: " substr($0, 1, 160); p = $1 }' $OUT/o.txt | tee -a $OUT/run138.txt
