#!/bin/bash
# attn_cm.comp's new defaults (heads split 4 ways over 128, 2 over 64; on for heads of 256), loads kept
# in f32 (.gl/bin) or converted to f16 on arrival (.gl/f16); then the issue's Q4_K rows of Llama 3 8B and
# Gemma 3 27B beside llama.cpp.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-270m q4_k & gen gemma3-1b q8_0 & gen gemma3-4b q4_0 & gen qwen2.5-7b q4_0 & gen qwen2.5-0.5b q4_0 & wait; echo gen1 done) &
(gen llama3-8b q4_k & gen gemma3-27b q4_k & wait; echo gen2 done) &
B=.gl/bin
timeout 200 $B/test-vk-ops > /tmp/ops.log 2>&1; echo "test-vk-ops rc=$?"
grep -E "NMSE [0-9.e-]+ >|FAIL|fail|matmul cases" /tmp/ops.log | head; grep -c "attention on coop" /tmp/ops.log
K="attnpf:4,1,256,512 attnpf:8,4,256,512 attnpf:8,4,256,2048 attnpf:28,4,128,512 attnpf:32,16,128,512 attnpf:14,2,64,512"
for v in bin f16; do
  echo "== $v default"; timeout 100 .gl/$v/vk-kernel-bench -r 20 $K 2>&1 | grep attnpf
done
echo "== d64 ds=2"; UNICORN_VK_ATTN_CM_SHAPE=128,64,2 timeout 100 $B/vk-kernel-bench -r 20 attnpf:14,2,64,512 2>&1 | grep attnpf
wait
ub() { timeout 100 $1/unicorn-bench --backend vulkan -m ${@:2} 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-270m-q4_k gemma3-1b-q8_0 gemma3-4b-q4_0 qwen2.5-7b-q4_0 qwen2.5-0.5b-q4_0; do
  echo "$s pf $(UNICORN_VK_ATTN_CM=0 ub $B /tmp/$s.gguf -p 512 -n 0 -r 3)"
  echo "$s cm $(ub $B /tmp/$s.gguf -p 512 -n 0 -r 3)"
  echo "$s cm-f16 $(ub .gl/f16 /tmp/$s.gguf -p 512 -n 0 -r 3)"
  echo "$s cm $(ub $B /tmp/$s.gguf -p 512 -n 0 -r 3)"
done
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
for s in llama3-8b-q4_k gemma3-27b-q4_k; do
  m=/tmp/$s.gguf
  ub $B $m -p 512 -n 128 -r 3 | sed "s/^/$s ours /"
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 150 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 3 2>&1 | grep -E "pp512|tg128" | awk -F'|' '{print $(NF-2), $(NF-1)}' | sed "s/^/$s llama /"
  ub $B $m -p 512 -n 0 -r 3 | sed "s/^/$s ours /"
done
