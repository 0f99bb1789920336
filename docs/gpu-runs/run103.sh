#!/bin/bash
# Written 2026-12-05 (fifteenth session) after run102.sh, .gl/bin from 95d68c7: (1) where Gemma 3 1B Q8_0's
# prefill loses (0.80x of llama.cpp's settled pp512): GPU time per pipeline beside llama.cpp's per-op
# times, and the Q8_0 against the Q4_0 products at its shapes (and the NV kernel's switches on Q8_0); (2) heads of 128 with 64 positions a block
# (UNICORN_VK_ATTN_CM_SHAPE=128,64,1: 90 against 111 us in run102.sh; the default in this build) against the old
# default (128,32,1) in a whole Qwen2.5 7B prefill; test-vk-ops first (test_attn_cm runs on matrix-core devices);
# (3) the 8-bit last-row logits (95d68c7) against a877e6b's engine on Gemma 3 27B Q4_K (both with the
# old attention shape, a877e6b's default).
# Run from the repository root as `bash .gl/run103.sh` after copying it there; logs land in $OUT.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
B=.gl/bin
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
med() { python3 -c 'import json,sys,statistics as s; d=json.load(sys.stdin); print("med %.1f" % s.median(d["samples_ts"]))'; }
$B/test-vk-ops > $OUT/test-vk-ops.txt 2>&1; echo "test-vk-ops rc $?"; tail -2 $OUT/test-vk-ops.txt
gen gemma3-1b q8_0 & gen qwen2.5-7b q4_0 & gen gemma3-27b q4_k & wait
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
s=gemma3-1b-q8_0
UNICORN_VK_PROFILE=1 timeout 120 $B/unicorn-bench --backend vulkan -m /tmp/$s.gguf -p 512 -n 0 -r 3 > $OUT/$s-unicorn.txt 2>&1
GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 512 -n 0 -r 1 > $OUT/$s-llama.txt 2>&1
$B/vk-kernel-bench -r 50 mm:q8_0:1536:1152:512 mm:q4_0:1536:1152:512 mm:q8_0:1152:1024:512 mm:q4_0:1152:1024:512 \
   mm:q8_0:6912:1152:512 mm:q4_0:6912:1152:512 mm:q8_0:1152:6912:512 mm:q4_0:1152:6912:512 2>&1 | grep -v "^coopmat tile" | tee $OUT/run103-mm.txt
for e in UNICORN_VK_CM2_DEC16=1 UNICORN_VK_CM2_BK=32 UNICORN_VK_CM2_BN=64 UNICORN_VK_CM2_BN=256 UNICORN_VK_CM2_UNROLL=512 UNICORN_VK_CM2_ACC16=0; do
  echo "$e: $(export $e; $B/vk-kernel-bench -r 50 mm:q8_0:1536:1152:512 mm:q8_0:1152:1024:512 mm:q8_0:6912:1152:512 mm:q8_0:1152:6912:512 2>&1 | grep ^mm | awk '{print $2, $3}' | tr '\n' ' ')"
done | tee -a $OUT/run103-mm.txt
for i in 1 2; do
  echo "7b q4_0 128,32,1 $(UNICORN_VK_ATTN_CM_SHAPE=128,32,1 $B/unicorn-bench --backend vulkan -m /tmp/qwen2.5-7b-q4_0.gguf -p 512 -n 0 -r 10 -o json 2>/dev/null | med)"
  echo "7b q4_0 def $($B/unicorn-bench --backend vulkan -m /tmp/qwen2.5-7b-q4_0.gguf -p 512 -n 0 -r 10 -o json 2>/dev/null | med)"
done | tee $OUT/run103-attn.txt
for b in unicorn-bench-a877 unicorn-bench unicorn-bench-a877 unicorn-bench; do
  echo "27b q4_k $b $(UNICORN_VK_ATTN_CM_SHAPE=128,32,1 $B/$b --backend vulkan -m /tmp/gemma3-27b-q4_k.gguf -p 512 -n 0 -r 5 -o json 2>/dev/null | med)"
done | tee $OUT/run103-ab.txt
