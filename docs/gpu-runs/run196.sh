#!/bin/bash
# Forty-first session, call 3. run195.sh: on the H100 a one-shot client (`unicornctl run`) spent ~230 ms
# outside its prompt and generation, on the 8B and the 1B alike, where the CPU backend spends 6 ms. Suspected: a
# session's context (~85 buffers, one vkAllocateMemory each) made and freed on the daemon's main thread.
# Now the context's device buffers share a few allocations (UNICORN_VK_BUF_GROUP=0: one each, as before; unicorn-bench both ways),
# and the daemon keeps the context the last session left for the next one (slots of at most DefaultContextLength=). UNICORN_VK_HOST_TIMES=1 reports
# the ms a context takes to make and to free. .gl/bin and .gl/sbuild from f6f15f8.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run196.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
export PATH=$PWD/.gl/dbus:$PATH
(SECONDS=0; UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 120 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-200)") | tee -a $R
for m in llama3-8b-q4_k gemma3-1b-q4_0; do
  gen ${m%-*} ${m##*-}
  for g in 0 1; do
    echo "== $m UNICORN_VK_BUF_GROUP=$g" | tee -a $R
    UNICORN_VK_BUF_GROUP=$g UNICORN_VK_HOST_TIMES=1 timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 0 -n 32 -r 2 2>&1 |
      grep -E 'tg32|contexts' | sed 's/.*| tg32/tg32/' | tee -a $R
  done
  for c in "1 1" "8 1,8"; do
    set -- $c
    mkdir -p $OUT/log-$m-c$1
    UNICORN_VK_HOST_TIMES=1 LD_LIBRARY_PATH=$PWD/.gl/dbus/lib timeout 100 python3 tools/sessions-bench.py \
      --build .gl/sbuild --model /tmp/$m.gguf --clients $1 --parallel $2 --tokens 128 --rounds 3 --backend vulkan \
      --bus-config $PWD/.gl/dbus/bus.conf --log $OUT/log-$m-c$1 2>&1 | grep -v 'fd limit' | tee -a $R
    grep -h 'vk-host.*contexts' $OUT/log-$m-c$1/*.log | tee -a $R
  done
  echo "$m done ${SECONDS}s" | tee -a $R
done
