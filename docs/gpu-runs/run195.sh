#!/bin/bash
# Forty-first session, call 2, .gl/bin and .gl/sbuild from 6fcfea9 (as run194.sh). run194.sh found the daemon
# well below the engine on the GPU (8 clients, ParallelSessions=1: 191.9 t/s on the 8B, where unicorn-bench's
# one sequence ran 346 in run192.sh). Where the time goes: sessions-bench.py's breakdown (time to the first
# token, each client's generation rate, the rest) and unicorn-bench tg beside it on this machine, with
# UNICORN_VK_HOST_TIMES=1 (recording, submit + wait, GPU time and wall time of a step, printed by the daemon
# at exit into the kept logs).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run195.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
export PATH=$PWD/.gl/dbus:$PATH
for m in llama3-8b-q4_k gemma3-1b-q4_0; do
  gen ${m%-*} ${m##*-}
  UNICORN_VK_HOST_TIMES=1 timeout 100 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -s 1,8 -p 0 -n 128 -d 64 -r 5 2>&1 |
    grep -E 'tg128|vk-host' | tee -a $R
  for c in "1 1" "8 1,8"; do
    set -- $c
    mkdir -p $OUT/log-$m-c$1
    UNICORN_VK_HOST_TIMES=1 LD_LIBRARY_PATH=$PWD/.gl/dbus/lib timeout 150 python3 tools/sessions-bench.py --build .gl/sbuild \
      --model /tmp/$m.gguf --clients $1 --parallel $2 --tokens 128 --rounds 3 --backend vulkan \
      --bus-config $PWD/.gl/dbus/bus.conf --log $OUT/log-$m-c$1 2>&1 | grep -v 'fd limit' | tee -a $R
    grep -h vk-host $OUT/log-$m-c$1/*.log | tee -a $R
  done
  echo "$m done ${SECONDS}s" | tee -a $R
done
