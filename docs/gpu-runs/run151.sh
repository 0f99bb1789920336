#!/bin/bash
# Written and run 2026-12-06 (twenty-eighth session), 155 s (run150-results.txt). .gl/bin: f0d4d9c; .gl/exp: f0d4d9c with the NV
# product's weight block and weight base declared 16-byte aligned (run151-align16.patch) (buffer_reference_align = 16, as
# llama.cpp's decodeBuf types are; 2 by default) for the types whose blocks are whole 16-byte words
# (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K). Does the alignment the compiler is told close the K-quant products'
# gap to llama.cpp (7B Q4_K gate/up 8%, down 12% slower, same tiles)? The products alone, default /
# aligned alternating twice (a throwaway case first: a fresh machine's first case reads slow), then
# Llama 3 8B Q4_K mix and Gemma 3 1B Q8_0 pp512 both ways with llama.cpp.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run151.txt
gen llama3-8b q4_k & gen gemma3-1b q8_0 &
C="mm:q4_k:14336:4096:512 mm:q4_k:4096:14336:512 mm:q4_k:4096:4096:512 mm:q4_k:18944:3584:512 mm:q6_k:3584:18944:512 mm:q4_0:18944:3584:512 mm:q8_0:6912:1152:512 mm:q8_0:1152:6912:512"
timeout 60 $B/vk-kernel-bench -r 5 mm:q4_k:4096:4096:512 >/dev/null 2>&1
for d in bin exp bin exp; do
  echo "$d: $(timeout 90 .gl/$d/vk-kernel-bench -r 20 $C 2>&1 | grep ^mm | awk '{print $6}' | tr '\n' ' ')"
done | tee -a $OUT/run151.txt
wait
for m in llama3-8b-q4_k gemma3-1b-q8_0; do
  for d in bin exp bin exp; do
    timeout 90 .gl/$d/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 8 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $d"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  sweep $m | grep llama.cpp
done | tee -a $OUT/run151.txt
echo "total ${SECONDS}s" | tee -a $OUT/run151.txt
