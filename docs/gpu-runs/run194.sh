#!/bin/bash
# Forty-first session, .gl/bin and .gl/sbuild (unicornd, unicornctl) from 6fcfea9.
# 1. run193.sh's question: why the 8B's pp128 xN stays at ~11,000 t/s from 4 to 32 sequences while
#    llama.cpp's rises (run192.sh). Per-kernel GPU times (UNICORN_VK_PROFILE=1) of steps of 512 tokens of one
#    sequence (pp512), of 4 sequences (pp128 x4) and of 32 (pp128 x32, 4 sequences a step), and llama.cpp's
#    (GGML_VK_PERF_LOGGER=1 llama-batched-bench -npp 128 -ntg 0 -npl 32, ubatches of 512).
# 2. The daemon's batching on the GPU, end to end: tools/sessions-bench.py (8 `unicornctl run` clients at once,
#    128 greedy tokens each) with ParallelSessions=1, 4, 8, Backend=vulkan. dbus-daemon and the libraries
#    the GPU machine lacks travel in .gl/dbus (Debian 12's, made here by:
#      mkdir -p .gl/dbus/lib; cp /usr/bin/dbus-daemon .gl/dbus/
#      for L in $(ldd /usr/bin/dbus-daemon build-vk/daemon/unicornd build-vk/client/unicornctl |
#                 awk '/=>/{print $3}' | sort -u | grep -v -e libc.so -e libm.so -e libvulkan); do cp -L $L .gl/dbus/lib/; done
#    and .gl/dbus/bus.conf, a session bus that allows everything).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run194.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen llama3-8b q4_k
echo "gen done ${SECONDS}s" | tee -a $R
for c in "1 512" "4 128" "32 128"; do
  set -- $c
  UNICORN_VK_PROFILE=1 timeout 150 $B/unicorn-bench --backend vulkan -m /tmp/llama3-8b-q4_k.gguf -s $1 -p $2 -n 0 -r 3 \
    > $OUT/prof-s$1.txt 2>&1
  echo "s$1 rc $?: $(grep '| pp' $OUT/prof-s$1.txt | tail -1)" | tee -a $R
done
xz -dc .gl/bin/llama-batched-bench.xz > /tmp/llama-batched-bench && chmod +x /tmp/llama-batched-bench
GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-batched-bench -m /tmp/llama3-8b-q4_k.gguf \
  -ngl 99 -c 8448 -b 2048 -ub 512 -npp 128 -ntg 0 -npl 32 > $OUT/llama-perf-x32.txt 2>&1
echo "llama x32 rc $?: $(grep -c 'Vulkan Timings' $OUT/llama-perf-x32.txt) blocks; $(grep '^|' $OUT/llama-perf-x32.txt | tail -1)" | tee -a $R
GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-batched-bench -m /tmp/llama3-8b-q4_k.gguf \
  -ngl 99 -c 8448 -b 2048 -ub 512 -npp 128 -ntg 0 -npl 4 > $OUT/llama-perf-x4.txt 2>&1
echo "llama x4 rc $?: $(grep -c 'Vulkan Timings' $OUT/llama-perf-x4.txt) blocks; $(grep '^|' $OUT/llama-perf-x4.txt | tail -1)" | tee -a $R
xz -9 $OUT/llama-perf-x*.txt
echo "profiles done ${SECONDS}s" | tee -a $R
export PATH=$PWD/.gl/dbus:$PATH
for m in llama3-8b-q4_k gemma3-1b-q4_0; do
  [ $m = gemma3-1b-q4_0 ] && gen gemma3-1b q4_0
  LD_LIBRARY_PATH=$PWD/.gl/dbus/lib timeout 200 python3 tools/sessions-bench.py --build .gl/sbuild --model /tmp/$m.gguf \
    --clients 8 --parallel 1,4,8 --tokens 128 --rounds 3 --backend vulkan --bus-config $PWD/.gl/dbus/bus.conf 2>&1 |
    grep -v 'fd limit' | tee -a $R
  echo "$m done ${SECONDS}s" | tee -a $R
done
