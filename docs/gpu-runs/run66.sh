#!/bin/bash
# attn_cm.comp with heads split between subgroups (DS): the H200 test cases, then pp512 of head-256
# models (and the 7B, head 128) under attn_pf.comp and attn_cm.comp shapes (UNICORN_VK_ATTN_CM_SHAPE=nt,bkv,ds).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen gemma3-270m q4_k & gen gemma3-1b q8_0 & gen gemma3-4b q4_0 & gen qwen2.5-7b q4_0 &
B=.gl/bin
timeout 200 $B/test-vk-ops > /tmp/ops.log 2>&1; echo "test-vk-ops rc=$?"
grep -E "attn|attention|FAIL|fail|matmul cases" /tmp/ops.log | head -60
wait
ub() { timeout 60 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-270m-q4_k gemma3-1b-q8_0 gemma3-4b-q4_0; do
  echo "$s pf $(UNICORN_VK_ATTN_CM=0 ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
  for sh in 128,32,2 64,32,2 128,32,4 256,32,2 128,16,2 64,32,2; do
    echo "$s cm=$sh $(UNICORN_VK_ATTN_CM=1 UNICORN_VK_ATTN_CM_SHAPE=$sh ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
  done
  echo "$s pf $(UNICORN_VK_ATTN_CM=0 ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
done
s=qwen2.5-7b-q4_0
for sh in 128,32,1 128,32,2 128,32,1 128,32,2; do
  echo "$s cm=$sh $(UNICORN_VK_ATTN_CM_SHAPE=$sh ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
done
echo "$s pf $(UNICORN_VK_ATTN_CM=0 ub /tmp/$s.gguf -p 512 -n 0 -r 3)"
for s in gemma3-1b-q8_0 gemma3-4b-q4_0; do
  UNICORN_VK_ATTN_CM=1 UNICORN_VK_PROFILE=1 timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/$s.gguf -p 512 -n 0 -r 2 2>&1 | grep -E "vk-profile" | sed "s/^/$s /" | head -30
done
