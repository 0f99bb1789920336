#!/bin/bash
# Written 2026-12-04 (twelfth session, no GPU lent): joined products in prefill, pp512 alternating
# none / q,k,v as one (UNICORN_VK_QKV_FUSED=2) / gate,up as one (UNICORN_VK_GU_FUSED=1) / both;
# then the 27B's tg128 with both decode experiments (run92.sh) off / on.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-27b q4_k; echo gen 27b done) &
(gen qwen2.5-7b q4_k & gen gemma3-4b q4_k & gen llama3-8b q4_k & wait)
B=.gl/bin
up() { timeout 90 $B/unicorn-bench --backend vulkan -m $1 -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | cut -d'|' -f9-; }
ub() { timeout 90 $B/unicorn-bench --backend vulkan -m $1 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
pv() { # $1 model, $2 variant: none qkv gu both
  local q=0 g=0
  [ $2 = qkv -o $2 = both ] && q=2
  [ $2 = gu -o $2 = both ] && g=1
  echo "$1 pp $2 $(export UNICORN_VK_QKV_FUSED=$q UNICORN_VK_GU_FUSED=$g; up /tmp/$1.gguf)"
}
for s in qwen2.5-7b-q4_k gemma3-4b-q4_k llama3-8b-q4_k; do
  for v in none qkv gu both none qkv gu both; do pv $s $v; done
done
wait
s=gemma3-27b-q4_k
for v in none both none both; do pv $s $v; done
for v in def both def both; do
  e="X=1"; [ $v = both ] && e="UNICORN_VK_GLU_Q8=1 UNICORN_VK_QKV_FUSED=1"
  echo "$s tg $v $(export $e; ub /tmp/$s.gguf)"
done
