#!/bin/bash
# Written 2026-12-05 (twenty-first session), not yet run (no device was lent that session). .gl/bin:
# that session's build. Where the other rows below llama.cpp's prefill lose their time (run118.sh, H100,
# pp512 from an empty context: Gemma 3 1B Q4_0 0.94x, Qwen2.5 7B Q4_K 0.95x, Gemma 3 27B Q4_0 0.93x):
# one prefill step's GPU time per kernel and shape from both engines, side by side
# (tools/vk-profile-compare.py). run126.sh does Gemma 3 4B Q4_K. ROWS overrides the rows.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run127.txt
ROWS=${ROWS:-"gemma3-1b:q4_0 qwen2.5-7b:q4_k gemma3-27b:q4_0"}
for r in $ROWS; do gen ${r%:*} ${r#*:} & done; wait
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
for r in $ROWS; do
  m=${r%:*}-${r#*:}
  UNICORN_VK_PROFILE=1 timeout 90 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 3 \
    > $OUT/profile-$m.txt 2>&1
  GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 \
    -p 512 -n 0 -r 3 > $OUT/llama-perf-$m.txt 2>&1
  python3 tools/vk-profile-compare.py $OUT/profile-$m.txt $OUT/llama-perf-$m.txt 512 > $OUT/compare-$m.txt 2>&1
  { echo "== $m"; grep -E '^(Unicorn|llama.cpp)' $OUT/compare-$m.txt; } | tee -a $OUT/run127.txt
  xz -9 $OUT/llama-perf-$m.txt
done
