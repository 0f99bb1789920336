#!/bin/bash
# The final attn_cm.comp defaults (heads over 128 split 4 ways, others not): H200 test cases, kernel
# times with and without context, pp512 of the models of heads of 64 and 128, SmolLM2 again beside llama.cpp.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen smollm2-135m q4_1 & gen qwen2.5-0.5b q4_0 & gen qwen2.5-7b q4_0 & wait; echo gen done) &
B=.gl/bin
timeout 200 $B/test-vk-ops > /tmp/ops.log 2>&1; echo "test-vk-ops rc=$?"
grep -E "NMSE [0-9.e-]+ >|FAIL|fail|matmul cases" /tmp/ops.log | head; grep -c "attention on coop" /tmp/ops.log
timeout 60 $B/vk-kernel-bench -r 10 attnpf:14,2,64,512 attnpf:14,2,64,512,3584 attnpf:28,4,128,512 attnpf:28,4,128,512,3584 attnpf:8,4,256,512 attnpf:8,4,256,512,3584 2>&1 | grep attnpf
UNICORN_VK_ATTN_CM_SHAPE=128,64,2 timeout 60 $B/vk-kernel-bench -r 10 attnpf:14,2,64,512 attnpf:14,2,64,512,3584 2>&1 | grep attnpf
wait
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
ub() { timeout 100 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in smollm2-135m-q4_1 qwen2.5-0.5b-q4_0 qwen2.5-7b-q4_0; do
  echo "$s ours $(ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
  echo "$s llama $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 100 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | awk -F'|' '{print $(NF-1)}')"
  echo "$s ours $(ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
done
