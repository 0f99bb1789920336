#!/bin/bash
# Written 2026-12-04 (twelfth session, no GPU lent): joined products in prefill, pp512 alternating
# none / q,k,v as one (UNICORN_VK_QKV_FUSED=2) / gate,up as one (UNICORN_VK_GU_FUSED=1) / both /
# the activation's f16 rows off (UNICORN_VK_ACT16=0: cvt16 makes them, as before 2026-12-04).
# `run93.sh` (no argument): Qwen2.5 7B, Gemma 3 4B, Llama 3 8B Q4_K mix. `run93.sh 27b` (a call of its
# own, for the time limit): Gemma 3 27B Q4_K mix, then its tg128 with both decode experiments of
# run92.sh off / on.
# Added 2026-12-05 (thirteenth session, no GPU lent): variant cm2old (UNICORN_VK_CM2_PIPE=0
# UNICORN_VK_CM2_DEC16=0: the NV kernel's Q4_K headers loaded where used, Q4_0/Q5_0/Q8_0 decoded in
# f32), and Qwen2.5 7B Q4_0 (none / cm2old / noact16). noact16 now also turns off the norms' and the
# prefill attention's own f16 rows. Variant unroll512 (UNICORN_VK_CM2_UNROLL=512) on the 7B Q4_0.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
B=.gl/bin
up() { timeout 90 $B/unicorn-bench --backend vulkan -m $1 -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | cut -d'|' -f9-; }
ub() { timeout 90 $B/unicorn-bench --backend vulkan -m $1 -p 0 -n 128 -r 3 2>&1 | grep -E "tg128" | cut -d'|' -f9-; }
pv() { # $1 model, $2 variant: none qkv gu both noact16 cm2old unroll512
  local q=0 g=0 a=1 c=1 u=256
  [ $2 = unroll512 ] && u=512
  [ $2 = qkv -o $2 = both ] && q=2
  [ $2 = gu -o $2 = both ] && g=1
  [ $2 = noact16 ] && a=0
  [ $2 = cm2old ] && c=0
  echo "$1 pp $2 $(export UNICORN_VK_QKV_FUSED=$q UNICORN_VK_GU_FUSED=$g UNICORN_VK_ACT16=$a \
    UNICORN_VK_CM2_PIPE=$c UNICORN_VK_CM2_DEC16=$c UNICORN_VK_CM2_UNROLL=$u; up /tmp/$1.gguf)"
}
if [ "$1" = 27b ]; then
  gen gemma3-27b q4_k
  s=gemma3-27b-q4_k
  for pass in 1 2; do
    for v in none qkv both noact16 cm2old; do pv $s $v; done
    for v in def both; do
      e="X=1"; [ $v = both ] && e="UNICORN_VK_GLU_Q8=1 UNICORN_VK_QKV_FUSED=1"
      echo "$s tg $v $(export $e; ub /tmp/$s.gguf)"
    done
  done
  exit
fi
(gen qwen2.5-7b q4_k & gen gemma3-4b q4_k & gen llama3-8b q4_k & gen qwen2.5-7b q4_0 & wait)
# Two passes over all models, so that a call cut at its time limit still has one of each.
for pass in 1 2; do
  for s in qwen2.5-7b-q4_k gemma3-4b-q4_k llama3-8b-q4_k; do
    for v in none qkv gu both noact16 cm2old; do pv $s $v; done
  done
  for v in none cm2old noact16 unroll512; do pv qwen2.5-7b-q4_0 $v; done
done
