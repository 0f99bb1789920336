#!/bin/bash
# Q6_K mat-vec units of 64 weights (quarters p and p + 2 share their ql and qh bytes) and the staged
# Q4_K gate/up product in every model, against the session's starting binaries (-old). Kernels,
# registers, the Q4_K split of long rows, tg128 beside llama.cpp.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_k & gen gemma3-4b q4_k & gen llama3-8b q4_k & gen gemma3-1b q4_k & wait; echo gen done) &
(gen gemma3-27b q4_k; echo gen 27b done) &
B=.gl/bin
timeout 120 $B/test-vk-ops 2>&1 | grep -E "Q6_K|Q4_K|staged|fail" | head
K="mvq:q6_k:152064:3584 mvq:q6_k:262144:2560 mvq:q6_k:262144:1152 mvs:q6_k:3584:3584"
for v in old new old new; do
  b=$B/vk-kernel-bench; [ $v = old ] && b=$B/vk-kernel-bench-old
  echo "== q6k $v"; timeout 90 $b -r 100 $K 2>&1 | grep -E "^(mv|glu)"
done
echo "== q6k new U=1"; (export UNICORN_VK_MV8=1,1; timeout 90 $B/vk-kernel-bench -r 100 $K 2>&1 | grep -E "^(mv|glu)")
D="mvq:q4_k:3584:18944 mvq:q4_k:2560:10240 mvq:q4_k:5376:21504 mvq:q4_k:4096:14336"
for g in 2 1 4 2 4; do echo "== split $g"; (export UNICORN_VK_MV8_SPLIT=$g,6144; timeout 90 $B/vk-kernel-bench -r 200 $D 2>&1 | grep -E "^(mv|glu)"); done
UNICORN_VK_PIPELINE_STATS=1 timeout 60 $B/vk-kernel-bench -r 2 mvq:q6_k:512:3584 2>&1 | grep -E "mv8s?_q6_k_r1u" | sort -u
wait %1
ub() { timeout 90 $1 --backend vulkan -m $2 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
for s in qwen2.5-7b-q4_k llama3-8b-q4_k gemma3-4b-q4_k gemma3-1b-q4_k; do
  for v in old new qkv new old split4; do
    b=$B/unicorn-bench; [ $v = old ] && b=$B/unicorn-bench-old
    e="X=1"; [ $v = qkv ] && e="UNICORN_VK_MV8S_SITES=1"; [ $v = split4 ] && e="UNICORN_VK_MV8_SPLIT=4,6144"
    echo "$s $v $(export $e; ub $b /tmp/$s.gguf)"
  done
  echo "$s llama.cpp $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep tg128 | cut -d'|' -f8-)"
done
wait
s=gemma3-27b-q4_k
for v in old new; do b=$B/unicorn-bench; [ $v = old ] && b=$B/unicorn-bench-old; echo "$s $v $(ub $b /tmp/$s.gguf)"; done
echo "$s llama.cpp $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 0 -n 128 -r 2 2>&1 | grep tg128 | cut -d'|' -f8-)"
