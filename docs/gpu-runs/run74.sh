#!/bin/bash
# Split-K in the NV product kernel (matmul_cm2.comp): the H200 test cases, product times with and
# without it at Gemma 3 4B / Qwen2.5 7B shapes, pp512 off/on alternating, and llama.cpp's own
# per-product times (GGML_VK_PERF_LOGGER) beside.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-4b q4_0 & gen qwen2.5-7b q4_k & wait; echo gen done) &
B=.gl/bin
timeout 200 $B/test-vk-ops > /tmp/ops.log 2>&1; echo "test-vk-ops rc=$?"
grep -E "NMSE [0-9.e-]+|FAIL|fail|matmul cases|split" /tmp/ops.log | head -20
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
MM4="mm:q4_0:2048:2560:512 mm:q4_0:1024:2560:512 mm:q4_0:2560:2048:512 mm:q4_0:10240:2560:512 mm:q4_0:2560:10240:512"
MM7="mm:q4_k:3584:3584:512 mm:q4_k:512:3584:512 mm:q4_k:18944:3584:512 mm:q4_k:3584:18944:512"
for sp in 0 8; do
  echo "== split $sp"; UNICORN_VK_CM2_SPLIT=$sp timeout 100 $B/vk-kernel-bench -r 20 $MM4 $MM7 2>&1 | grep -E "^mm|mm:"
done
wait
ub() { timeout 100 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-4b-q4_0 qwen2.5-7b-q4_k; do
  for sp in 0 8 0 8; do echo "$s split=$sp $(UNICORN_VK_CM2_SPLIT=$sp ub /tmp/$s.gguf -p 512 -n 0 -r 3)"; done
  echo "$s llama $(LD_LIBRARY_PATH=$PWD/.gl/lib timeout 100 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | awk -F'|' '{print $(NF-1)}')"
  GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 100 /tmp/llama-bench -m /tmp/$s.gguf -ngl 99 -p 512 -n 0 -r 1 > /tmp/perf-$s.log 2>&1
  echo "$s llama perf (last graph):"; awk '/Vulkan Timings/{buf=""} {buf=buf"\n"$0} END{print buf}' /tmp/perf-$s.log | grep -v "^$" | head -45
done
