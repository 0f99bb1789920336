#!/bin/bash
# Written 2026-12-05 (twentieth session), not yet run. .gl/bin: 6763acb (the NV prefill attention on by
# default, split only where its grid is under one workgroup a multiprocessor; one Vulkan instance a
# process; 91c77bb tidies 7068c53, 6763acb adds a host test); unicorn-bench-base: 0a270d4. (1) both
# tests of that build (run121.sh ran test-vk-ops of the build before the instance change, run122.sh
# test-vk-models of 7068c53); (2) prefill and decode at depth 4096 on the rows the twentieth session
# did not measure there, base beside new, llama.cpp beside. run118.sh 27bk (the one row of the
# issue's table not yet on the H100) is a call of its own.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run124.txt
gen gemma3-4b q4_0 & gen gemma3-4b q4_k & gen qwen2.5-7b q4_k &
gputests | tee -a $OUT/run124.txt
wait
export DEPTHS=4096
for r in gemma3-4b:q4_0 gemma3-4b:q4_k qwen2.5-7b:q4_k; do
  models $r unicorn-bench-base:X=1 unicorn-bench:X=1 | tee -a $OUT/run124.txt
done
