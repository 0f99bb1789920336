#!/bin/bash
# Written 2026-12-05 (fourteenth session): where prefill loses on the rows still below llama.cpp in
# run98.sh (Gemma 3 1B Q4_0 0.89x, Gemma 3 27B Q4_K mix 0.89x): GPU time per pipeline
# (UNICORN_VK_PROFILE=1) beside llama.cpp's per-op times (GGML_VK_PERF_LOGGER=1), pp512 only.
# Run from the repository root as `bash .gl/run99.sh` after copying it there; the logs land in $OUT.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen gemma3-1b q4_0 & gen gemma3-27b q4_k & wait
B=.gl/bin
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
for s in gemma3-1b-q4_0 gemma3-27b-q4_k; do
  UNICORN_VK_PROFILE=1 timeout 120 $B/unicorn-bench --backend vulkan -m /tmp/$s.gguf -p 512 -n 0 -r 3 > $OUT/$s-unicorn.txt 2>&1
  GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 512 -n 0 -r 1 > $OUT/$s-llama.txt 2>&1
  grep pp512 $OUT/$s-unicorn.txt $OUT/$s-llama.txt
done
