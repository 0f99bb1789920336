#!/bin/bash
# Small cm2 tile (64 tokens) against the narrow one (128) per product shape, and whole-model pp512 again.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
(gen smollm2-135m q4_1; gen qwen2.5-0.5b q4_0) &
B=.gl/bin
C="mm:q4_0:896:896:512 mm:q4_0:896:4864:512 mm:q4_0:128:896:512 mm:q4_1:576:576:512 mm:q4_1:576:1536:512 mm:q4_1:1536:576:512 mm:q8_0:1024:1152:512 mm:q8_0:1152:6912:512 mm:q4_0:2048:2560:512 mm:q5_0:1024:640:512 mm:q4_k:640:2048:512"
for cfg in 64 0 64 0; do
  UNICORN_VK_CM2_SMALL=$cfg timeout 100 $B/vk-kernel-bench -r 50 $C 2>&1 | grep -E "^mm" | sed "s/^/small=$cfg /"
done
wait
ub() { timeout 60 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in qwen2.5-0.5b-q4_0 smollm2-135m-q4_1; do
  for cfg in 64 0 64 0; do echo "$s small=$cfg $(UNICORN_VK_CM2_SMALL=$cfg ub /tmp/$s.gguf -p 512 -n 0 -r 3)"; done
done
