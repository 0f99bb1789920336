#!/bin/bash
# Written 2026-12-05 (eighteenth session). A decode attention kernel by clusters of lanes, attn_dec.comp
# (VK_P_ATTN_DEC: G query heads of one kv head a workgroup; each cluster of 32 lanes walks its own positions, k and v of 8 positions loaded in
# one round, no workgroup barrier in the loop; the clusters combined once at the end), made per model
# for its head size; UNICORN_VK_ATTN_DEC=0 keeps attn.comp, =1 one head a workgroup. UNICORN_VK_ATTN_SPLITS caps the
# split count (64). .gl/bin/*-base and vk-kernel-bench-old: 3b1a5cc (run104.sh's kernels); .gl/bin:
# the working tree (also run105.sh's merge change: partials loaded 16 at a time, in parallel).
# attn_cm.comp (prefill attention) loads each block's k and v rows during the block before
# (UNICORN_VK_ATTN_CM_AHEAD=0: as before) and splits positions over up to 8 workgroups where its grid is
# under 4 workgroups a multiprocessor (UNICORN_VK_ATTN_PF_SPLITS=1: no split).
# Order: decode kernels, 7B beside llama.cpp, prefill kernels, attention tests, 1B, model tests.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
B=.gl/bin
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
ks() { echo "$*: $(env "$@" -r 50 $C 2>&1 | grep "^attn" | awk '{print $3}' | tr '\n' ' ')"; }
C="attn:28,4,128,4096 attn:4,1,256,4096 attn:28,4,128,512 attn:8,4,256,1024 attn:28,4,128,64"
{ ks X=1 $B/vk-kernel-bench-old; ks X=1 $B/vk-kernel-bench; ks UNICORN_VK_ATTN_DEC=0 $B/vk-kernel-bench
  ks UNICORN_VK_ATTN_DEC=1 $B/vk-kernel-bench; ks UNICORN_VK_DISABLE_KV16=1 $B/vk-kernel-bench
  for sp in 8 16 32; do ks UNICORN_VK_ATTN_SPLITS=$sp $B/vk-kernel-bench; done; } | tee -a $OUT/run106.txt
$B/vk-kernel-bench -r 5 attn:28,4,128,4096 attn:4,1,256,4096 2>&1 | grep "^attn" | tee -a $OUT/run106.txt
wait
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
models() { # ROW VARIANTS...: unicorn-bench pp512 / tg128 at depths 0 and 4096, then llama-bench
  local r=$1 m=/tmp/${1%:*}-${1#*:}.gguf; shift
  for be in "$@"; do
    b=${be%%:*}; e=${be#*:}
    env $e timeout 100 $B/$b --backend vulkan -m $m -p 512 -n 128 -d 0,4096 -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r $b $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -d 0,4096 -r 6 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r"' llama.cpp", d["n_prompt"], d["n_gen"], d["n_depth"], "%.1f" % s.median(d["samples_ts"][1:]))'
}
models qwen2.5-7b:q4_0 unicorn-bench-base:X=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_DEC=0 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=1 unicorn-bench:UNICORN_VK_ATTN_CM_AHEAD=0 | tee -a $OUT/run106.txt
C="attnpf:4,1,256,512 attnpf:28,4,128,512 attnpf:28,4,128,512,3584 attnpf:32,16,128,512,3584 attnpf:4,1,256,512,3584"
{ ks X=1 $B/vk-kernel-bench-old; ks X=1 $B/vk-kernel-bench; ks UNICORN_VK_ATTN_PF_SPLITS=1 $B/vk-kernel-bench
  ks UNICORN_VK_ATTN_CM_AHEAD=0 $B/vk-kernel-bench; ks UNICORN_VK_DISABLE_KV16=1 $B/vk-kernel-bench; } | tee -a $OUT/run106.txt
timeout 60 $B/test-vk-ops attn-dec attn-quick > $OUT/test-vk-ops.txt 2>&1; echo "test-vk-ops rc $?"; grep -i "fail\|decode attention: \|NV matrices\|device:" $OUT/test-vk-ops.txt | head -12
models gemma3-1b:q4_0 unicorn-bench-base:X=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=1 | tee -a $OUT/run106.txt
timeout 100 $B/test-vk-models > $OUT/test-vk-models.txt 2>&1; echo "test-vk-models rc $?"; grep -i "fail" $OUT/test-vk-models.txt | head -5
