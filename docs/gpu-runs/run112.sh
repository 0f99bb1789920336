#!/bin/bash
# Written 2026-12-05 (nineteenth session) after run111.sh: attn_cm.comp passed on the GPU without the
# split's tail (whose `shared uint` flag sat before kvs, leaving kvs 4 bytes off the 16-byte alignment of
# coopMatLoad, the suspicion). .gl/bin: the flag moved into ot. Tests with and without the split, then
# 7B and 1B beside llama.cpp at depths 0 and 4096, then the whole default test-vk-ops.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; B=.gl/bin
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run112.txt
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
for e in X=1 UNICORN_VK_ATTN_PF_SPLITS=auto; do
  env $e timeout 100 stdbuf -oL -eL $B/test-vk-ops attn-quick > $OUT/o.txt 2>&1
  echo "test-vk-ops attn-quick $e rc $?: $(grep -m1 'check failed' $OUT/o.txt | cut -c1-200)"
  env $e timeout 45 stdbuf -oL -eL $B/test-vk-models > $OUT/o.txt 2>&1
  echo "test-vk-models $e rc $?: $(grep -m1 'check failed' $OUT/o.txt | cut -c1-200)"
done | tee -a $OUT/run112.txt
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
models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto | tee -a $OUT/run112.txt
models qwen2.5-7b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto | tee -a $OUT/run112.txt
timeout 120 stdbuf -oL -eL $B/test-vk-ops > $OUT/ops-all.txt 2>&1; echo "test-vk-ops (default parts) rc $?: $(grep -m1 'check failed' $OUT/ops-all.txt | cut -c1-200)" | tee -a $OUT/run112.txt
