#!/bin/bash
# Written 2026-12-05 (thirteenth session), after run92.sh-run94.sh, and not run yet (no machine could be
# started for it): the defaults made from them
# (Q6_K on the NV kernel; its header prefetch and f16 decode off; the staged GLU's 8-bit output and the
# one-token q/k/v product for models with n_ff <= 8192). Tests, then pp512 and tg128 with the defaults,
# llama.cpp beside on two rows. Run from the repository root as `bash .gl/run95.sh` after copying it
# there (it changes to the folder above its own).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_k & gen gemma3-4b q4_k & gen llama3-8b q4_k & gen gemma3-1b q8_0 & gen gemma3-270m q4_k &
 wait; echo gen done) &
B=.gl/bin
timeout 120 $B/test-vk-ops 2>&1 | tail -2
UNICORN_QUANTIZE=$B/unicorn-quantize timeout 150 $B/test-vk-models 2>&1 | grep -E "check failed|quantized|device lost" | tail -4
wait %1
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
lb() { LD_LIBRARY_PATH=$PWD/.gl/lib timeout 90 /tmp/llama-bench -m /tmp/$1.gguf -ngl 99 $2 -r 3 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f8-; }
for s in qwen2.5-7b-q4_k gemma3-4b-q4_k llama3-8b-q4_k; do
  echo "$s pp $(timeout 90 $B/unicorn-bench --backend vulkan -m /tmp/$s.gguf -p 512 -n 0 -r 3 2>&1 | grep pp512 | cut -d'|' -f9-)"
done
echo "qwen2.5-7b-q4_k llama.cpp pp $(lb qwen2.5-7b-q4_k '-p 512 -n 0')"
for s in gemma3-1b-q8_0 gemma3-270m-q4_k qwen2.5-7b-q4_k; do
  echo "$s tg $(timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/$s.gguf -p 0 -n 128 -r 3 2>&1 | grep tg128 | cut -d'|' -f9-)"
done
echo "gemma3-1b-q8_0 llama.cpp tg $(lb gemma3-1b-q8_0 '-p 0 -n 128')"
