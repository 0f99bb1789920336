#!/bin/bash
# Split-K in the NV product kernel, its sum now a plain loop after the tile is stored (.gl/bin) against
# the previous build (.gl/old): test-vk-ops, product times at Gemma 3 4B / Qwen2.5 7B shapes, pp512 and tg128.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-4b q4_0 & gen qwen2.5-7b q4_k & wait; echo gen done) &
MM4="mm:q4_0:2048:2560:512 mm:q4_0:1024:2560:512 mm:q4_0:2560:2048:512 mm:q4_0:10240:2560:512 mm:q4_0:2560:10240:512"
MM7="mm:q4_k:3584:3584:512 mm:q4_k:512:3584:512 mm:q4_k:18944:3584:512 mm:q4_k:3584:18944:512"
echo "== bin stats"; UNICORN_VK_PIPELINE_STATS=1 timeout 100 .gl/bin/vk-kernel-bench -r 5 mm:q4_k:18944:3584:512 2>&1 | grep -E "vk-pipeline matmul_cm2h_q4_k" | head -8
for v in old bin old bin; do
  echo "== $v"; timeout 100 .gl/$v/vk-kernel-bench -r 20 $MM4 $MM7 2>&1 | grep -E "^mm"
done
wait
ub() { v=$1; shift; timeout 100 .gl/$v/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-4b-q4_0 qwen2.5-7b-q4_k; do
  for v in old bin old bin; do echo "$s $v $(ub $v /tmp/$s.gguf -p 512 -n 0 -r 3)"; done
done
for v in old bin; do echo "4b $v $(ub $v /tmp/gemma3-4b-q4_0.gguf -p 0 -n 128 -r 2)"; done
time (timeout 400 .gl/bin/test-vk-ops > /tmp/ops.log 2>&1; echo "test-vk-ops rc=$?")
grep -E "FAIL|fail|matmul cases|split" /tmp/ops.log | head -20
