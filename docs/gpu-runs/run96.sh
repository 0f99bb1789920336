#!/bin/bash
# Written 2026-12-05 (fourteenth session), after run95.sh. run95.sh's pp512 came out below run93.sh's
# (7B Q4_K 9,437 +- 1,456 against 10,519; llama.cpp beside +- 4,033: the GPU was still settling).
# This run warms the GPU first, then alternates, two passes: the defaults, Q6_K off the NV kernel
# (UNICORN_VK_CM2_Q6K=0), the producers' f16 rows off (UNICORN_VK_ACT16=0), and llama.cpp beside.
# Run from the repository root as `bash .gl/run96.sh` after copying it there.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_k & gen llama3-8b q4_k & wait)
B=.gl/bin
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
lb() { LD_LIBRARY_PATH=$PWD/.gl/lib timeout 90 /tmp/llama-bench -m /tmp/$1.gguf -ngl 99 -p 512 -n 0 -r 5 2>&1 | grep -E "pp512" | cut -d'|' -f8-; }
up() { timeout 90 $B/unicorn-bench --backend vulkan -m /tmp/$1.gguf -p 512 -n 0 -r 5 2>&1 | grep pp512 | cut -d'|' -f9-; }
# Warm-up: clocks and the pipeline cache, not reported.
up qwen2.5-7b-q4_k >/dev/null; lb qwen2.5-7b-q4_k >/dev/null
for pass in 1 2; do
  for s in qwen2.5-7b-q4_k llama3-8b-q4_k; do
    echo "$s pp def $(up $s)"
    echo "$s pp q6k0 $(UNICORN_VK_CM2_Q6K=0 up $s)"
    echo "$s pp noact16 $(UNICORN_VK_ACT16=0 up $s)"
    echo "$s pp llama.cpp $(lb $s)"
  done
done
