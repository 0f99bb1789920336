#!/bin/bash
# Written 2026-12-04 (twelfth session, no GPU lent): q, k and v as one product in prefill
# (UNICORN_VK_QKV_FUSED=2; the 27B ran them as three products of one round each, 384 us a layer),
# pp512 alternating off / on, then the 27B's tg128 with both decode experiments (run92.sh) off / on.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-27b q4_k; echo gen 27b done) &
gen qwen2.5-7b q4_k; gen gemma3-4b q4_k
B=.gl/bin
up() { timeout 90 $B/unicorn-bench --backend vulkan -m $1 -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | cut -d'|' -f9-; }
ub() { timeout 90 $B/unicorn-bench --backend vulkan -m $1 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
for s in qwen2.5-7b-q4_k gemma3-4b-q4_k; do
  for v in 0 2 0 2; do echo "$s pp qkv=$v $(export UNICORN_VK_QKV_FUSED=$v; up /tmp/$s.gguf)"; done
done
wait
s=gemma3-27b-q4_k
for v in 0 2 0 2; do echo "$s pp qkv=$v $(export UNICORN_VK_QKV_FUSED=$v; up /tmp/$s.gguf)"; done
for v in def both def both; do
  e="X=1"; [ $v = both ] && e="UNICORN_VK_GLU_Q8=1 UNICORN_VK_QKV_FUSED=1"
  echo "$s tg $v $(export $e; ub /tmp/$s.gguf)"
done
