#!/bin/bash
# One-token down product on float activations (no quantx step) against 8-bit, small models' tg128.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
gen() { python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
gen gemma3-1b q8_0 & gen gemma3-1b q4_0 & gen qwen2.5-0.5b q4_0 & gen gemma3-270m q4_k & gen smollm2-135m q4_1 & gen gemma3-4b q4_0 &
B=.gl/bin
timeout 60 $B/vk-kernel-bench -r 300 mv:q8_0:1152:6912 mvq:q8_0:1152:6912 mv:q4_0:1152:6912 mvq:q4_0:1152:6912 quantx:6912 mv:q4_0:896:4864 mvq:q4_0:896:4864 mv:q4_0:2560:10240 mvq:q4_0:2560:10240 quantx:10240 2>&1 | grep -E "^(mv|quantx)"
wait
ub() { timeout 60 $B/unicorn-bench --backend vulkan -m $@ 2>&1 | grep -E "pp512|tg128" | cut -d'|' -f9-; }
for s in gemma3-1b-q8_0 gemma3-1b-q4_0 qwen2.5-0.5b-q4_0 gemma3-270m-q4_k smollm2-135m-q4_1 gemma3-4b-q4_0; do
  vs="0 1000 0 1000"; [ $s = gemma3-4b-q4_0 ] && vs="0 1000"
  for v in $vs; do
    echo "$s downf=$v $(UNICORN_VK_DOWN_Q8_MIN=$v ub /tmp/$s.gguf -p 0 -n 128 -r 3)"
  done
done
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
LD_LIBRARY_PATH=$PWD/.gl/lib timeout 60 /tmp/llama-bench -m /tmp/gemma3-1b-q8_0.gguf -ngl 99 -p 0 -n 128 -r 3 2>&1 | grep tg128
