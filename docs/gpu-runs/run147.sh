#!/bin/bash
# Written 2026-12-06 (twenty-seventh session), ~5 min. .gl/bin: as run146.sh's.
# run146.sh forced the NV prefill attention's split count on Gemma 3's global layers after 4,096
# positions; each process's first case read slow (the 4B's), and 4 splits beat the rule's 5 (4B, 354
# against 398 us) and 8 (1B, 168 against 207) at 32 x 32. Again with each case run twice a process
# (the second kept), then whole models at depth 4096 with 4 splits forced, against the rule.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run147.txt
(gen gemma3-4b q4_k; gen gemma3-1b q4_0; gen qwen2.5-0.5b q4_0) &
for n in auto 2 3 4 6 auto 4; do
  echo "UNICORN_VK_ATTN_PF_SPLITS=$n (4B global, 1B global; the second of two): $(UNICORN_VK_ATTN_PF_SPLITS=$n timeout 60 \
    $B/vk-kernel-bench -r 20 attnpf:8,4,256,512,4096 attnpf:8,4,256,512,4096 attnpf:4,1,256,512,4096 \
    attnpf:4,1,256,512,4096 2>&1 | grep ^attnpf | awk 'NR % 2 == 0 {print $3 "us/" $(NF-1)}' | tr '\n' ' ')"
done | tee -a $OUT/run147.txt
wait
export DEPTHS=4096
models gemma3-4b:q4_k unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=4 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=4 | tee -a $OUT/run147.txt
models gemma3-1b:q4_0 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=4 unicorn-bench:X=1 unicorn-bench:UNICORN_VK_ATTN_PF_SPLITS=4 | tee -a $OUT/run147.txt
for e in X=1 UNICORN_VK_ATTN_PF_SPLITS=4; do
  env $e timeout 90 $B/unicorn-bench --backend vulkan -m /tmp/qwen2.5-0.5b-q4_0.gguf -p 512 -n 0 -d 4096 -r 5 -o json 2>/dev/null |
    L="qwen2.5-0.5b:q4_0 $e" python3 -c 'import json,sys,os,statistics as s
for l in sys.stdin: d=json.loads(l); print(os.environ["L"], d["test"], "%.1f" % s.median(d["samples_ts"]))'
done | tee -a $OUT/run147.txt
echo "total ${SECONDS}s" | tee -a $OUT/run147.txt
