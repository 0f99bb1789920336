#!/bin/bash
# Written 2026-12-05 (nineteenth session). .gl/bin from a11658c (attn_cm.comp's f16 fetch reverted,
# attn_dec.comp masked-position fix); -base: 3b1a5cc. Does the default prefill attention pass on the
# GPU now (run107: NMSE 0.207 on llama-f32 prompt)? Does the split prefill (UNICORN_VK_ATTN_PF_SPLITS=auto)
# pass, and what does it give beside llama.cpp on 7B and 1B at depth 0 and 4096?
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; B=.gl/bin
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
for e in X=1 UNICORN_VK_ATTN_PF_SPLITS=auto; do
  env $e timeout 45 stdbuf -oL -eL $B/test-vk-models > $OUT/models-$e.txt 2>&1
  echo "test-vk-models $e rc $?: $(grep -m1 'check failed' $OUT/models-$e.txt)"
  env $e timeout 60 stdbuf -oL -eL $B/test-vk-ops attn-quick > $OUT/ops-$e.txt 2>&1
  echo "test-vk-ops attn-quick $e rc $?: $(grep -m1 'check failed' $OUT/ops-$e.txt)"
done | tee -a $OUT/run109.txt
wait
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
models() { # ROW VARIANTS...: unicorn-bench pp512 / tg128 at depths 0 and 4096, then llama-bench
  local r=$1 m=/tmp/${1%:*}-${1#*:}.gguf; shift
  for be in "$@"; do
    b=${be%%:*}; e=${be#*:}
    env $e timeout 90 $B/$b --backend vulkan -m $m -p 512 -n 128 -d 0,4096 -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r $b $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 110 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -d 0,4096 -r 6 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r"' llama.cpp", d["n_prompt"], d["n_gen"], d["n_depth"], "%.1f" % s.median(d["samples_ts"][1:]))'
}
models qwen2.5-7b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto | tee -a $OUT/run109.txt
models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto | tee -a $OUT/run109.txt
