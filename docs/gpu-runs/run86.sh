#!/bin/bash
# Q4_K mat-vec units of 64 weights (a sub-block pair: header read and scales decoded once per 64,
# mins from x's block sums) against the 32-weight units (-old binaries). Kernels, registers, tg128.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen qwen2.5-7b q4_k & gen gemma3-4b q4_k & gen llama3-8b q4_k & gen gemma3-1b q4_k & wait; echo gen done) &
B=.gl/bin
timeout 120 $B/test-vk-ops 2>&1 | grep -E "Q4_K|staged|fail|FAIL" | head
K="gluq:q4_k:18944:3584 mvq:q4_k:3584:18944 mvq:q4_k:3584:3584 mvq:q4_k:512:3584 glus:q4_k:18944:3584 mvs:q4_k:3584:3584 gluq:q4_k:10240:2560 mvq:q4_k:2560:10240"
for v in old new old new; do
  b=$B/vk-kernel-bench; [ $v = old ] && b=$B/vk-kernel-bench-old
  echo "== kernels $v"; timeout 90 $b -r 200 $K 2>&1 | grep -E "^(mv|glu)"
done
echo "== new U=2"; (export UNICORN_VK_MV8=1,2; timeout 90 $B/vk-kernel-bench -r 200 $K 2>&1 | grep -E "^(mv|glu)")
for v in old new; do
  b=$B/vk-kernel-bench; [ $v = old ] && b=$B/vk-kernel-bench-old
  echo "== regs $v"; UNICORN_VK_PIPELINE_STATS=1 timeout 60 $b -r 2 mvq:q4_k:512:3584 2>&1 | grep -E "mv8s?g?_q4_k_r1u1" | sort -u
done
wait
ub() { timeout 90 $1 --backend vulkan -m $2 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
for s in qwen2.5-7b-q4_k gemma3-4b-q4_k llama3-8b-q4_k gemma3-1b-q4_k; do
  for v in old new old new s7; do
    b=$B/unicorn-bench; [ $v = old ] && b=$B/unicorn-bench-old
    e="X=1"; [ $v = s7 ] && e="UNICORN_VK_MV8S_SITES=7"
    echo "$s $v $(export $e; ub $b /tmp/$s.gguf)"
  done
done
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/qwen2.5-7b-q4_k.gguf -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep tg128
