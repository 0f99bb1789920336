#!/bin/bash
# Small cm2 tile, Q4_1 mv8, prefetch default, head-256 attention on matrix cores: tests, then
# pp512 per config beside llama.cpp; tg on SmolLM2 (Q4_1) beside llama.cpp; 7B/27B tg prefetch on/off.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen smollm2-135m q4_1; gen gemma3-270m q4_k; gen qwen2.5-0.5b q4_0; gen gemma3-1b q8_0; gen gemma3-4b q4_0) &
(gen qwen2.5-7b q4_0; gen gemma3-27b q4_0) &
xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
B=.gl/bin
echo "=== test-vk-ops"
UNICORN_TEST_VERBOSE=1 timeout 200 $B/test-vk-ops > /tmp/ops.txt 2>&1; echo rc=$?
grep -E "FAIL|passed|attention" /tmp/ops.txt | tail -6
echo "=== test-vk-models"
UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize UNICORN_FIXTURES=$PWD/tests/fixtures timeout 150 $B/test-vk-models > /tmp/m.txt 2>&1; echo rc=$?
grep -E "FAIL|fail|q4_1" /tmp/m.txt | cut -c1-170 | tail -8
waitfor() { for i in $(seq 1 400); do [ -f $1 ] && ! pgrep -f "$1" >/dev/null && break; sleep 1; done; }
ub() { timeout 60 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
lb() { LD_LIBRARY_PATH=$PWD/.gl/lib timeout 100 /tmp/llama-bench -m $@ -ngl 99 -r 3 2>&1 | grep -E "pp512|tg128" | awk -F'|' '{print $(NF-2), $(NF-1)}'; }
for s in smollm2-135m-q4_1 gemma3-270m-q4_k qwen2.5-0.5b-q4_0 gemma3-1b-q8_0 gemma3-4b-q4_0; do
  m=/tmp/$s.gguf; waitfor $m
  echo "=== $s"
  echo "small  $(ub $m -p 512 -n 0 -r 3)"
  echo "nosmall $(UNICORN_VK_CM2_SMALL=0 ub $m -p 512 -n 0 -r 3)"
  case $s in gemma*) echo "small+attncm $(UNICORN_VK_ATTN_CM=1 ub $m -p 512 -n 0 -r 3)";; esac
  echo "llama $(lb $m -p 512 -n 0)"
done
echo "=== smollm2 tg"
m=/tmp/smollm2-135m-q4_1.gguf
echo "ours $(ub $m -p 0 -n 128 -r 3)"; echo "llama $(lb $m -p 0 -n 128)"
echo "ours nointdot $(UNICORN_VK_DISABLE_INTDOT=1 ub $m -p 0 -n 128 -r 3)"; echo "ours $(ub $m -p 0 -n 128 -r 3)"
for s in qwen2.5-7b-q4_0 gemma3-27b-q4_0; do
  m=/tmp/$s.gguf; waitfor $m
  echo "=== $s tg"
  for pf in d 0 d 0; do
    if [ $pf = d ]; then echo "pf=default $(ub $m -p 0 -n 128 -r 3)"; else echo "pf=0 $(UNICORN_VK_PREFETCH=0 ub $m -p 0 -n 128 -r 3)"; fi
  done
done
