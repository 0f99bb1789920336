#!/bin/bash
# Forty-first session, written, NOT RUN (no device time left). run196.sh: a context of n_batch 512 took
# 185-223 ms to make on the H100 (one of n_batch 32, 18-33 ms), most of it not the buffer count. The suspect:
# the host-visible logits buffer, n_batch x n_vocab floats of pinned memory (263 MiB for the 8B, 512 MiB for
# Gemma 3), now 16 rows (or one a sequence) grown on demand. This measures the make time again at n_batch
# 512 and the daemon's eight one-shot clients with ParallelSessions=1 (4.4 s outside per client in run196.sh).
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run197.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
for m in llama3-8b-q4_k gemma3-1b-q4_0; do
  gen ${m%-*} ${m##*-}
  echo "$m: $(UNICORN_VK_HOST_TIMES=1 timeout 30 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 1 2>&1 | grep contexts | tr '\n' ' ')" | tee -a $R
  sessions $m 8 1 | tee -a $R
done
