#!/bin/bash
# Thirty-fifth session, fifth call (~300 s): the last token tile of a batch that is not a multiple of the NV
# tile, run as a whole tile on activations padded to 256 rows (MM_XPAD; .gl/bin3, this session's second
# form) against every load clamped (.gl/bin, 9c40c0c). run182.sh's first form (only the activations'
# loads clamped, in a second copy of the unrolled loop) ran such tiles 4x slower than whole ones and cost
# the 8B's pp512 15%. (1) test-vk-ops matmul and test-vk-models (whole models, prefill of odd lengths) on
# bin3 while the models generate; (2) the products, both builds alternating; (3) pp100, pp300, pp512, both
# builds and llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run183.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k & gen qwen2.5-7b q4_0 &
(SECONDS=0; timeout 200 .gl/bin3/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "bin3 test-vk-ops matmul rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-mm.txt | cut -c1-240)") | tee -a $R
tail -3 $OUT/o-mm.txt | tee -a $R
(SECONDS=0; UNICORN_QUANTIZE=$PWD/.gl/bin3/unicorn-quantize timeout 180 .gl/bin3/test-vk-models > $OUT/m.txt 2>&1; echo "bin3 test-vk-models rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-240)") | tee -a $R
M="mm:q4_k:4096:14336:32 mm:q4_k:4096:14336:64 mm:q4_k:14336:4096:300 mm:q4_k:4096:4096:100 mm:q4_0:3584:18944:200 mm:q6_k:4096:14336:511 mm:q4_k:4096:14336:512 mm:q4_k:14336:4096:512"
timeout 30 .gl/bin/vk-kernel-bench -r 5 $M >/dev/null 2>&1
kbins "$M" bin bin3 bin bin3 | tee -a $R
wait
echo "gen done ${SECONDS}s" | tee -a $R
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
for m in llama3-8b-q4_k qwen2.5-7b-q4_0; do
  for b in bin bin3 bin bin3; do
    timeout 100 .gl/$b/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 100,300,512 -n 0 -r 8 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $b"'", d["test"], "%.1f" % s.median(d["samples_ts"]))' | tee -a $R
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 110 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 -p 100,300,512 -n 0 -r 12 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m"' llama.cpp pp%d (median of the last 6 of 12)" % d["n_prompt"], "%.1f" % s.median(d["samples_ts"][6:]))' | tee -a $R
done
echo "total ${SECONDS}s" | tee -a $R
