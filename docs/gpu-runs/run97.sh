#!/bin/bash
# Written 2026-12-05 (fourteenth session): run96.sh's pp512 had one slow repetition in several
# (+- 2,960 over 5 at 10,300), llama.cpp beside +- 30-290. Samples one by one (-o json -r 10) with the
# defaults, with a blocking fence wait (UNICORN_VK_SPIN=0), with host/GPU times (UNICORN_VK_HOST_TIMES=1),
# and the e3b5046 build (unicorn-bench-old); GPU clocks sampled beside.
# Run from the repository root as `bash .gl/run97.sh` after copying it there.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen qwen2.5-7b q4_k
B=.gl/bin
m=/tmp/qwen2.5-7b-q4_k.gguf
js() { timeout 90 ${BIN:-$B/unicorn-bench} --backend vulkan -m $m -p 512 -n 0 -r 10 -o json 2>&1 | grep -o '"avg_ts[^]]*\]\|^vk-host.*\|^unicorn-vk.*' ; }
(nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu,utilization.gpu --format=csv -lms 250 > /tmp/clk.csv 2>&1 &)
js >/dev/null
for pass in 1 2; do
  echo "def $(js)"
  echo "spin0 $(UNICORN_VK_SPIN=0 js)"
  echo "hosttimes $(UNICORN_VK_HOST_TIMES=1 js | tr '\n' ' ')"
  echo "old $(BIN=$B/unicorn-bench-old js)"
done
pkill nvidia-smi
sort /tmp/clk.csv | uniq -c | sort -rn | head -12
