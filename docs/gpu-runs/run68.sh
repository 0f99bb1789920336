#!/bin/bash
# attn_cm.comp with every load of a block in flight at once (fetch/put) and attn_pf.comp with loads
# unrolled by 8: H200 test cases, kernel times (vk-kernel-bench attnpf), then pp512 under shapes.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen gemma3-270m q4_k & gen gemma3-1b q8_0 & gen gemma3-4b q4_0 & gen qwen2.5-7b q4_0 &
B=.gl/bin
timeout 200 $B/test-vk-ops > /tmp/ops.log 2>&1; echo "test-vk-ops rc=$?"
grep -E "NMSE [0-9.e-]+ >|FAIL|fail|matmul cases" /tmp/ops.log | head; grep -c "attention on coop" /tmp/ops.log
K="attnpf:4,1,256,512 attnpf:8,4,256,512 attnpf:8,4,256,2048 attnpf:28,4,128,512 attnpf:32,16,128,512"
kb() { timeout 100 $B/vk-kernel-bench -r 20 $@ 2>&1 | grep attnpf; }
echo "pf"; UNICORN_VK_ATTN_CM=0 kb $K
for sh in 128,32,1 128,32,2 128,32,4 256,32,4 256,32,8 128,16,4 64,32,2 256,32,2; do
  echo "cm $sh"; UNICORN_VK_ATTN_CM=1 UNICORN_VK_ATTN_CM_SHAPE=$sh kb $K
done
wait
ub() { timeout 60 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-270m-q4_k gemma3-1b-q8_0 gemma3-4b-q4_0 qwen2.5-7b-q4_0; do
  echo "$s pf $(UNICORN_VK_ATTN_CM=0 ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
  for sh in 128,32,2 128,32,4 256,32,4 256,32,8; do
    echo "$s cm=$sh $(UNICORN_VK_ATTN_CM=1 UNICORN_VK_ATTN_CM_SHAPE=$sh ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
  done
  echo "$s pf $(UNICORN_VK_ATTN_CM=0 ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
done
