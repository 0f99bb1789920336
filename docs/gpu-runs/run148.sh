#!/bin/bash
# Written 2026-12-06 (twenty-seventh session), ~7 min. .gl/bin: a build with the new split rule (vk-ops.c
# pf_split: llama.cpp's count where no window cuts the span on the NV kernel; UNICORN_VK_ATTN_PF_SPLITS=auto4
# the rule before) and UNICORN_VK_CM2_WORD bits 1 Q4_0, 2 Q8_0.
# 1. the split counts the rule now picks (vk-kernel-bench prints them), the second of two runs a case;
# 2. whole models from 0 and 4,096 positions, the new rule against auto4 (Gemma 3 4B Q4_K alternating
#    twice, with llama.cpp; 1B Q4_0, Qwen2.5 0.5B, SmolLM2, whose global or only layers change);
# 3. Gemma 3 1B Q4_0 pp512 with the word-wise Q4_0 decode (run146.sh: 7B +2.4-3.4%, 4B +2-9%, 1B -2-4%
#    within its own 7% spread), alternating three times.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run148.txt
(gen gemma3-4b q4_k; gen gemma3-1b q4_0; gen qwen2.5-0.5b q4_0; gen smollm2-135m q4_1) &
for n in auto auto4; do
  echo "UNICORN_VK_ATTN_PF_SPLITS=$n (4B global, 1B global, 4B at depth 0): $(UNICORN_VK_ATTN_PF_SPLITS=$n timeout 60 \
    $B/vk-kernel-bench -r 20 attnpf:8,4,256,512,4096 attnpf:8,4,256,512,4096 attnpf:4,1,256,512,4096 \
    attnpf:4,1,256,512,4096 attnpf:8,4,256,512,0 attnpf:8,4,256,512,0 2>&1 | grep ^attnpf | awk 'NR % 2 == 0 {print $3 "us/" $(NF-1)}' | tr '\n' ' ')"
done | tee -a $OUT/run148.txt
wait
ub() { # MODEL ENV...: unicorn-bench alone, pp512 and tg128 from $DEPTHS, median of 5
  local r=$1 m=/tmp/${1%:*}-${1#*:}.gguf e; shift
  for e in "$@"; do
    env $e timeout 90 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 128 -d $DEPTHS -r 5 -o json 2>/dev/null |
      L="$r $e" python3 -c 'import json,sys,os,statistics as s
for l in sys.stdin: d=json.loads(l); print(os.environ["L"], d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
}
export DEPTHS=0,4096
models gemma3-4b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=auto4 | tee -a $OUT/run148.txt
for r in gemma3-1b:q4_0 qwen2.5-0.5b:q4_0 smollm2-135m:q4_1; do
  ub $r X=1 UNICORN_VK_ATTN_PF_SPLITS=auto4
done | tee -a $OUT/run148.txt
for e in X=1 UNICORN_VK_CM2_WORD=1 X=1 UNICORN_VK_CM2_WORD=1 X=1 UNICORN_VK_CM2_WORD=1; do
  env $e timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-1b-q4_0.gguf -p 512 -n 0 -r 8 -o json 2>/dev/null |
    L="gemma3-1b:q4_0 $e" python3 -c 'import json,sys,os,statistics as s
for l in sys.stdin: d=json.loads(l); print(os.environ["L"], d["test"], "%.1f" % s.median(d["samples_ts"]))'
done | tee -a $OUT/run148.txt
echo "total ${SECONDS}s" | tee -a $OUT/run148.txt
