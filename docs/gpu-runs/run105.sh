#!/bin/bash
# Written 2026-12-05 (seventeenth session) after run104.sh found, at 4,096 positions of context:
#  - the prefill attention (attn_cm.comp) twice as slow on f16 cache rows as on f32 ones (attnpf
#    4,1,256,512: 177.6 / 99.3 us; at 3,584 positions 1,190 / 613), pp512 @ d4096 of Qwen2.5 7B Q4_0
#    6,552 / 8,427 t/s (llama.cpp 9,369-9,715);
#  - the decode attention (attn.comp) slow: Qwen2.5 7B Q4_0 tg128 438 -> 267 t/s from depth 0 to
#    4,096, llama.cpp 294 -> 271.
# Now attn_cm.comp takes f16 rows without a round trip through f32 and holds fetched rows as f16, and
# attn.comp's split-K merge loads the partials in parallel (it read 64 partials one after another in
# every invocation; 16 at a time since) and keeps 8 positions of v loads in flight.
# UNICORN_VK_ATTN_SPLITS caps the decode split count (64 by default; 64 positions a workgroup at 4,096). .gl/bin/vk-kernel-bench-old and
# unicorn-bench-base are the kernels before (run104.sh's build); the rest is the working tree's.
# Order: kernels, whole models, tests (the session had ~6 minutes of device time left).
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
B=.gl/bin
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen qwen2.5-7b q4_0 & gen gemma3-1b q4_0 &
C="attnpf:4,1,256,512 attnpf:28,4,128,512 attnpf:32,16,128,512,3584 attnpf:4,1,256,512,3584 attn:28,4,128,4096 attn:4,1,256,4096 attn:28,4,128,512 attn:8,4,256,1024"
for k in vk-kernel-bench-old vk-kernel-bench; do for e in X=1 UNICORN_VK_DISABLE_KV16=1; do
  echo "$k $e: $(env $e $B/$k -r 50 $C 2>&1 | grep "^attn" | awk '{print $3}' | tr '\n' ' ')"
done; done | tee -a $OUT/run105.txt
for sp in 8 16 32; do
  echo "vk-kernel-bench UNICORN_VK_ATTN_SPLITS=$sp: $(UNICORN_VK_ATTN_SPLITS=$sp $B/vk-kernel-bench -r 50 attn:28,4,128,4096 attn:4,1,256,4096 2>&1 | grep "^attn" | awk '{print $3}' | tr '\n' ' ')"
done | tee -a $OUT/run105.txt
wait
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
for r in qwen2.5-7b:q4_0 gemma3-1b:q4_0; do
  m=/tmp/${r%:*}-${r#*:}.gguf
  for be in unicorn-bench-base:X=1 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_DISABLE_KV16=1 unicorn-bench:UNICORN_VK_ATTN_SPLITS=16; do
    b=${be%%:*}; e=${be#*:}
    env $e timeout 100 $B/$b --backend vulkan -m $m -p 512 -n 128 -d 0,4096 -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r $b $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -d 0,4096 -r 6 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r"' llama.cpp", d["n_prompt"], d["n_gen"], d["n_depth"], "%.1f" % s.median(d["samples_ts"][1:]))'
done | tee -a $OUT/run105.txt
# The tests last (the device time left was short): the attention parts and the models.
timeout 200 $B/test-vk-ops attn attn-shapes > $OUT/test-vk-ops.txt 2>&1; echo "test-vk-ops attn rc $?"; grep -i "fail\|attention\|device:" $OUT/test-vk-ops.txt | head -8
timeout 150 $B/test-vk-models > $OUT/test-vk-models.txt 2>&1; echo "test-vk-models rc $?"; grep -i "fail" $OUT/test-vk-models.txt | head -5
