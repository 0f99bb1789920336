#!/bin/bash
# attn_pf.comp before (.gl/pf0) and after its unrolled loads; pp512 with the new attn_cm.comp defaults
# beside llama.cpp; test-vk-models on the H200.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-270m q4_k & gen gemma3-1b q8_0 & gen gemma3-4b q4_0 & gen qwen2.5-7b q4_0 & gen qwen2.5-0.5b q4_0 & wait; echo gen done) &
B=.gl/bin
K="attnpf:4,1,256,512 attnpf:8,4,256,512 attnpf:28,4,128,512 attnpf:14,2,64,512 attnpf:8,4,256,2048"
for v in pf0 bin pf0 bin; do
  echo "== $v attn_pf"; UNICORN_VK_ATTN_CM=0 timeout 100 .gl/$v/vk-kernel-bench -r 20 $K 2>&1 | grep attnpf
done
wait
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
ub() { timeout 100 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-270m-q4_k qwen2.5-0.5b-q4_0 gemma3-1b-q8_0 gemma3-4b-q4_0 qwen2.5-7b-q4_0; do
  echo "$s ours $(ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
  echo "$s llama $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 100 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | awk -F'|' '{print $(NF-1)}')"
  echo "$s ours $(ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
done
UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize UNICORN_FIXTURES=$PWD/tests/fixtures timeout 300 $B/test-vk-models > /tmp/models.log 2>&1; echo "test-vk-models rc=$?"; tail -5 /tmp/models.log
