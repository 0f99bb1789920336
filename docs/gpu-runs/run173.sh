#!/bin/bash
# Thirtieth session, call 6. The decode products that read furthest below the roofline in run172.sh (staged
# GLU 2.4-2.6 TB/s, long-row down 2.1-2.2 TB/s, against 2.8-3.1 for the output matrix): their grid,
# lanes and units in flight (vk-kernel-bench -r 200), then tg128 of two models with the likeliest.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
gen qwen2.5-7b q4_0 & gen qwen2.5-7b q4_k &
C="glus:q4_0:18944:3584 glus:q4_k:18944:3584 glus:q4_0:21504:5376 mvq:q4_0:3584:18944 mvq:q4_k:3584:18944 mvq:q4_0:5376:21504 mvs:q4_0:3584:3584"
timeout 60 $B/vk-kernel-bench -r 20 glus:q4_0:18944:3584 >/dev/null 2>&1
for e in X=1 UNICORN_VK_MV8S_GRID=3 UNICORN_VK_MV8S_GRID=4 UNICORN_VK_MV8S_GRID=0 UNICORN_VK_MV8S=256+UNICORN_VK_MV8S_GRID=4 \
         UNICORN_VK_MV8S=1024+UNICORN_VK_MV8S_GRID=1 UNICORN_VK_MV8=1,1 UNICORN_VK_MV8=2,2 UNICORN_VK_MV8=1,2,256 \
         UNICORN_VK_MV8_SPLIT=4,6144 UNICORN_VK_MV8_SPLIT=1,6144 X=1; do
  echo "$e: $(env ${e//+/ } timeout 60 $B/vk-kernel-bench -r 200 $C 2>&1 | grep -E '^(mv|glu)' | awk '{print $5}' | tr '\n' ' ')"
done | tee -a $OUT/run173.txt
wait
tg() { # MODEL ENV...
  local m=$1 e; shift
  for e in "$@"; do
    env ${e//+/ } timeout 120 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 0 -n 128 -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
}
V="X=1 UNICORN_VK_MV8S_GRID=3 UNICORN_VK_MV8S_GRID=4 UNICORN_VK_MV8=2,2"
for m in qwen2.5-7b-q4_0 qwen2.5-7b-q4_k; do tg $m $V $V; done | tee -a $OUT/run173.txt
echo "total ${SECONDS}s" | tee -a $OUT/run173.txt
