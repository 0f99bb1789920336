#!/bin/bash
# matmul_cm2.comp Q4_K/Q5_K with the staged scales double-buffered (one barrier a superblock, .gl/v2)
# against the current kernel (.gl/bin): H200 test cases, kernel times, Llama 3 8B Q4_K pp512.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
(python3 tools/gen-random-gguf.py llama3-8b q4_k /tmp/l8.gguf >/dev/null; echo gen done) &
timeout 120 .gl/v2/test-vk-ops > /tmp/ops.log 2>&1; echo "v2 test-vk-ops rc=$?"
grep -E "NMSE [0-9.e-]+ >|FAIL|fail|matmul cases" /tmp/ops.log | head -5
K="mm:q4_k:4096:4096:512 mm:q4_k:14336:4096:512 mm:q4_k:4096:14336:512 mm:q4_k:21504:5376:512 mm:q4_k:5376:21504:512"
for v in bin v2 bin v2; do echo "== $v"; timeout 60 .gl/$v/vk-kernel-bench -r 20 $K 2>&1 | grep "^mm"; done
wait
for v in bin v2 bin v2; do echo "$v $(timeout 60 .gl/$v/unicorn-bench --backend vulkan -m /tmp/l8.gguf -p 512 -n 0 -r 3 2>&1 | grep pp512 | cut -d'|' -f9-)"; done
