#!/bin/bash
# Thirty-fifth session, sixth call (~200 s, the session's last device time): .gl/bin4 = run183.sh's padded
# last token tile (bin3) plus the split-K slices keeping MM_XPAD (bin3's split products lost it: Q4_0
# 3584 x 18944 at 200 tokens unchanged at 1,277 us) and llama.cpp's split rule applied to batches of fewer
# tokens than a tile where that tile runs whole (32 tokens on 4096 rows: 312 us unsplit against 87 for 64
# split in 4). (1) test-vk-ops matmul and test-vk-models on bin4 while the models generate; (2) the products,
# bin3 against bin4; (3) pp32-pp512 on bin4 beside llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run184.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 &
(SECONDS=0; timeout 120 .gl/bin4/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "bin4 test-vk-ops matmul rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-mm.txt | cut -c1-240)") | tee -a $R
tail -3 $OUT/o-mm.txt | tee -a $R
(SECONDS=0; UNICORN_QUANTIZE=$PWD/.gl/bin4/unicorn-quantize timeout 100 .gl/bin4/test-vk-models > $OUT/m.txt 2>&1; echo "bin4 test-vk-models rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-240)") | tee -a $R
M="mm:q4_k:4096:14336:32 mm:q4_k:4096:14336:64 mm:q4_k:4096:4096:100 mm:q4_0:3584:18944:200 mm:q4_k:14336:4096:300 mm:q4_k:4096:14336:512"
timeout 30 .gl/bin3/vk-kernel-bench -r 5 $M >/dev/null 2>&1
kbins "$M" bin3 bin4 bin3 bin4 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
for m in llama3-8b-q4_k qwen2.5-7b-q4_0; do
  for b in bin4 bin4; do
    timeout 60 .gl/$b/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 32,100,300,512 -n 0 -r 8 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $b"'", d["test"], "%.1f" % s.median(d["samples_ts"]))' | tee -a $R
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 60 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 -p 32,100,300,512 -n 0 -r 12 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m"' llama.cpp pp%d (median of the last 6 of 12)" % d["n_prompt"], "%.1f" % s.median(d["samples_ts"][6:]))' | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
