#!/bin/bash
# Why the NV product kernel ran 2.5x slower with the split-K code in it: the previous build (.gl/base),
# the split code always compiled (.gl/a) and under a specialization constant (.gl/b): driver statistics,
# product times, pp512; then test-vk-ops of b.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen gemma3-4b q4_0; echo gen done) &
MM4="mm:q4_0:2048:2560:512 mm:q4_0:1024:2560:512 mm:q4_0:2560:2048:512 mm:q4_0:10240:2560:512 mm:q4_0:2560:10240:512"
MM7="mm:q4_k:3584:3584:512 mm:q4_k:512:3584:512 mm:q4_k:18944:3584:512 mm:q4_k:3584:18944:512"
for v in old a bin; do
  echo "== $v stats"; UNICORN_VK_PIPELINE_STATS=1 timeout 100 .gl/$v/vk-kernel-bench -r 5 mm:q4_k:18944:3584:512 2>&1 | grep -E "vk-pipeline matmul_cm2h_q4_(0|k)" | head -8
done
for v in old a bin old bin; do
  echo "== $v"; timeout 100 .gl/$v/vk-kernel-bench -r 20 $MM4 $MM7 2>&1 | grep -E "^mm"
done
echo "== b split 0"; UNICORN_VK_CM2_SPLIT=0 timeout 100 .gl/bin/vk-kernel-bench -r 20 $MM4 $MM7 2>&1 | grep -E "^mm"
wait
ub() { timeout 100 .gl/$1/unicorn-bench --backend vulkan -m /tmp/gemma3-4b-q4_0.gguf -p 512 -n 0 -r 3 2>&1 | grep -E "pp512" | cut -d'|' -f9-; }
for v in old bin old bin; do echo "4b $v $(ub $v)"; done
echo "4b b split0 $(UNICORN_VK_CM2_SPLIT=0 ub bin)"
time (timeout 400 .gl/bin/test-vk-ops > /tmp/ops.log 2>&1; echo "test-vk-ops rc=$?")
grep -E "NMSE [0-9.e-]+|FAIL|fail|matmul cases|split" /tmp/ops.log | head -20; tail -3 /tmp/ops.log
