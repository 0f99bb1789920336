#!/bin/bash
# Run 2026-12-05 (nineteenth session) after run113.sh, same machine and .gl/bin: whole-model prefill
# without and with the split, twice each in turn, on the two rows where the kernel alone lost at depth.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
B=.gl/bin
[ -f /tmp/gemma3-4b-q4_0.gguf ] || python3 tools/gen-random-gguf.py gemma3-4b q4_0 /tmp/gemma3-4b-q4_0.gguf >/dev/null
for m in gemma3-4b-q4_0 qwen2.5-7b-q4_0; do for e in X=1 UNICORN_VK_ATTN_PF_SPLITS=auto X=2 UNICORN_VK_ATTN_PF_SPLITS=auto; do
env $e timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -d 0,4096 -r 5 -o json 2>/dev/null | python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'; done; done
