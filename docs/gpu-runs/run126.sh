#!/bin/bash
# Written 2026-12-05 (twenty-first session), not yet run (no device was lent that session). .gl/bin:
# that session's build (the profile by kernel and shape, UNICORN_VK_CM2_RULE=llama). In one call (~8 min):
# (1) both GPU tests of that build, beside the models' generation (test-vk-ops now also runs the NV
# kernel's wide tile split over k, as the llama rule takes it);
# (2) the Q4_K prefill gap (run118.sh: Gemma 3 4B Q4_K pp512 0.84x of llama.cpp, Q4_0 0.99x): the NV
# product kernel's knobs on 4B Q4_K pp512 from an empty context, the likeliest three on 7B Q4_K, llama.cpp's
# tile and split choice (UNICORN_VK_CM2_RULE=llama) on 4B Q4_0 too, llama.cpp beside (-r 20, median of its
# last 10); (3) one 4B Q4_K prefill step's GPU time per kernel and shape from both engines
# (UNICORN_VK_PROFILE=1, GGML_VK_PERF_LOGGER=1), side by side through tools/vk-profile-compare.py.
# It replaces run125.sh (that sweep less its knobs that do nothing for the K-quants, UNROLL and BK=64).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run126.txt
gen gemma3-4b q4_k & gen qwen2.5-7b q4_k & gen gemma3-4b q4_0 &
{ timeout 90 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $?: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-240)"
  timeout 240 $B/test-vk-ops > $OUT/o.txt 2>&1; echo "test-vk-ops rc $?: $(grep -m1 'check failed\|SKIP' $OUT/o.txt | cut -c1-240)"; } | tee -a $OUT/run126.txt
wait
[ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
sweep() { # MODEL ENV...: pp512 of each, then llama.cpp's
  local m=$1 e; shift
  for e in "$@"; do
    env $e timeout 50 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 8 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 80 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 -p 512 -n 0 -r 20 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m"' llama.cpp pp512 (median of the last 10 of 20)", "%.1f" % s.median(d["samples_ts"][10:]))'
}
{ sweep gemma3-4b-q4_k X=1 UNICORN_VK_CM2_RULE=llama UNICORN_VK_CM2_PIPE=1 UNICORN_VK_CM2_BK=32 UNICORN_VK_CM2_BN=256 \
        UNICORN_VK_CM2_WIDE=0 UNICORN_VK_CM2_ACC16=0 UNICORN_VK_CM2_SPLIT=0 UNICORN_VK_CM2_Q6K=0 X=1
  sweep qwen2.5-7b-q4_k X=1 UNICORN_VK_CM2_RULE=llama UNICORN_VK_CM2_PIPE=1
  sweep gemma3-4b-q4_0 X=1 UNICORN_VK_CM2_RULE=llama; } | tee -a $OUT/run126.txt
UNICORN_VK_PROFILE=1 timeout 50 $B/unicorn-bench --backend vulkan -m /tmp/gemma3-4b-q4_k.gguf -p 512 -n 0 -r 3 \
  > $OUT/profile-4b-q4_k.txt 2>&1
GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 60 /tmp/llama-bench -m /tmp/gemma3-4b-q4_k.gguf -ngl 99 \
  -p 512 -n 0 -r 3 > $OUT/llama-perf-4b-q4_k.txt 2>&1
python3 tools/vk-profile-compare.py $OUT/profile-4b-q4_k.txt $OUT/llama-perf-4b-q4_k.txt 512 > $OUT/compare-4b-q4_k.txt
head -30 $OUT/compare-4b-q4_k.txt; grep -A30 '^llama.cpp' $OUT/compare-4b-q4_k.txt | head -30
xz -9 $OUT/llama-perf-4b-q4_k.txt
