#!/bin/bash
# Written 2026-12-05 (fourteenth session): in run98.sh llama-bench's pp512 samples still rose on the small
# rows (Gemma 3 1B Q8_0: 10,327 ... 32,581 over its 5; its one warm-up run leaves the GPU's clock ramp in
# them, as ours did before this session). Here llama-bench runs 30 repetitions and the summary takes the
# median of its last 10, beside unicorn-bench (0.5 s warm-up, 10 repetitions). Then run100.sh's
# single products, where time is left. Run from the repository root as `bash .gl/run101.sh` after copying it there.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
rows="gemma3-1b:q8_0 gemma3-4b:q4_k qwen2.5-0.5b:q4_0 gemma3-1b:q4_k"
for r in $rows; do gen ${r%:*} ${r#*:} & done; wait
B=.gl/bin
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
for r in $rows; do
  m=/tmp/${r%:*}-${r#*:}.gguf
  timeout 60 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 10 -o json 2>/dev/null | sed "s/^/U $r /" >> $OUT/run101.txt
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 60 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 0 -r 30 -o jsonl 2>/dev/null | sed "s/^/L $r /" >> $OUT/run101.txt
done
python3 - $OUT/run101.txt <<'PY'
import json, sys, statistics as st
res = {}
for line in open(sys.argv[1]):
    tool, row, js = line.split(' ', 2)
    try: res[(row, tool)] = json.loads(js)['samples_ts']
    except Exception: pass
for row in sorted({r for r, _ in res}):
    u, l = res.get((row, 'U')), res.get((row, 'L'))
    if u and l:
        print(f"{row:20s} pp512 unicorn med {st.median(u):9.1f} | llama first5 med {st.median(l[:5]):9.1f} last10 med {st.median(l[-10:]):9.1f} best {max(l):9.1f} | ratio {st.median(u)/st.median(l[-10:]):.2f}")
PY
.gl/bin/vk-kernel-bench -r 50 mm:q4_0:1024:1152:512 mm:q4_0:1152:1024:512 mm:q4_0:1152:6912:512 mm:q4_0:256:1152:512 \
   mm:q4_0:6912:1152:512 mm:q4_k:2048:5376:512 mm:q4_k:21504:5376:512 mm:q4_k:4096:5376:512 mm:q4_k:5376:21504:512 \
   mm:q4_k:5376:4096:512 attnpf:32,16,128,512 attnpf:4,1,256,512 2>&1 | grep -v "^coopmat tile"
