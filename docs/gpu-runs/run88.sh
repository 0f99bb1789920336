#!/bin/bash
# Final form of the 64-weight Q4_K/Q6_K units (Q6_K with U = 1): tests, Q6_K kernels, tg128 of the
# Q4_K mix rows; the 27B with its down projection unsplit (UNICORN_VK_MV8_SPLIT=1,6144) against
# the default; llama.cpp's 4B beside.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_k & gen gemma3-4b q4_k & gen gemma3-270m q4_k & gen gemma3-1b q4_k & wait; echo gen done) &
(gen gemma3-27b q4_k; echo gen 27b done) &
B=.gl/bin
timeout 150 $B/test-vk-ops 2>&1 | tail -4
timeout 90 $B/vk-kernel-bench -r 100 mvq:q6_k:152064:3584 mvq:q6_k:262144:2560 gluq:q4_k:18944:3584 glus:q4_k:18944:3584 2>&1 | grep -E "^(mv|glu)"
wait %1
ub() { timeout 90 $B/unicorn-bench --backend vulkan -m $1 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
for s in qwen2.5-7b-q4_k gemma3-4b-q4_k gemma3-1b-q4_k gemma3-270m-q4_k; do
  echo "$s $(ub /tmp/$s.gguf) $(ub /tmp/$s.gguf)"
done
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
echo "4b llama.cpp $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/gemma3-4b-q4_k.gguf -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep tg128 | cut -d'|' -f8-)"
wait
s=gemma3-27b-q4_k
for v in def g1 def g1; do e="X=1"; [ $v = g1 ] && e="UNICORN_VK_MV8_SPLIT=1,6144"; echo "$s $v $(export $e; ub /tmp/$s.gguf)"; done
