#!/bin/bash
# Thirty-fourth session: run178.sh again with the word-wise K-quant decode on the narrow and small tiles
# only (the wide tile keeps the byte form: the KWORD specialization constant, UNICORN_VK_CM2_KWORD=1, the
# default of .gl/bin2). Same steps: the 8B product shapes, .gl/bin (b9b70b7) and .gl/bin2 in turn, the
# matmul checks with .gl/bin2, the 8B's pp512 with each in turn, then llama.cpp's.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run179.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k &
M="mm:q4_k:14336:4096:512 mm:q4_k:4096:14336:512 mm:q4_k:4096:4096:512 mm:q4_k:1024:4096:512 mm:q6_k:4096:14336:512"
echo "== $M" | tee -a $R
for b in bin bin2 bin bin2; do
  echo "$b: $(timeout 40 .gl/$b/vk-kernel-bench -r 20 $M 2>&1 | tee -a $OUT/kb-$b.txt | grep -E '^mm' | awk '{print $6}' | tr '\n' ' ')" | tee -a $R
done
(SECONDS=0; timeout 100 .gl/bin2/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "bin2 test-vk-ops matmul rc $? ${SECONDS}s") | tee -a $R
grep -m3 "check failed\|matmul cases" $OUT/o-mm.txt | tee -a $R
wait
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
for b in bin bin2 bin bin2; do
  timeout 90 .gl/$b/unicorn-bench --backend vulkan -m /tmp/llama3-8b-q4_k.gguf -p 512 -n 0 -r 8 -o json 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("llama3-8b-q4_k '$b'", d["test"], "%.1f" % s.median(d["samples_ts"]))' | tee -a $R
done
LD_LIBRARY_PATH=$PWD/.gl/lib timeout 110 /tmp/llama-bench -m /tmp/llama3-8b-q4_k.gguf -ngl 99 -p 512 -n 0 -r 20 -o jsonl 2>/dev/null |
  python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("llama3-8b-q4_k llama.cpp pp512 (median of the last 10 of 20)", "%.1f" % s.median(d["samples_ts"][10:]))' | tee -a $R
echo "total ${SECONDS}s" | tee -a $R
