#!/bin/bash
# Thirty-fifth session, fourth call (~420 s): the NV product's last token tile of a batch that is not a
# multiple of the tile (most prompts) on the unclamped, unrolled loop with only the activations clamped
# (.gl/bin2, this session's change) against every load clamped (.gl/bin, 9c40c0c), where run181.sh found a
# 64-token tile with 32 tokens 20x slower than a whole one. (1) test-vk-ops matmul on the new build, while the
# models generate; (2) the products at such token counts, both builds, alternating; (3) whole-model prefill
# of 100, 300 and 512 tokens, both builds and llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run182.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 &
(SECONDS=0; timeout 200 .gl/bin2/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "bin2 test-vk-ops matmul rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-mm.txt | cut -c1-240)") | tee -a $R
tail -3 $OUT/o-mm.txt | tee -a $R
M="mm:q4_k:4096:14336:32 mm:q4_k:4096:14336:64 mm:q4_k:14336:4096:300 mm:q4_k:4096:4096:100 mm:q4_0:3584:18944:200 mm:q6_k:4096:14336:511 mm:q4_k:4096:14336:512"
timeout 30 .gl/bin/vk-kernel-bench -r 5 $M >/dev/null 2>&1
kbins "$M" bin bin2 bin bin2 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
for m in llama3-8b-q4_k qwen2.5-7b-q4_0; do
  for b in bin bin2 bin bin2; do
    timeout 100 .gl/$b/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 100,300,512 -n 0 -r 8 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $b"'", d["test"], "%.1f" % s.median(d["samples_ts"]))' | tee -a $R
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 110 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 -p 100,300,512 -n 0 -r 12 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m"' llama.cpp pp%d (median of the last 6 of 12)" % d["n_prompt"], "%.1f" % s.median(d["samples_ts"][6:]))' | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
