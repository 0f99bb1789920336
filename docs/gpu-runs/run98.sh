#!/bin/bash
# Written 2026-12-05 (fourteenth session): the whole table again with the committed defaults and
# unicorn-bench's time-based warm-up (run97.sh: one warm-up run left the GPU's clock ramp in the first
# sample). Both tools give JSON samples; the summary prints each one's median and mean, so that a slow
# first llama-bench sample (it warms up once) shows too. `run98.sh` for all rows but Gemma 3 27B,
# `run98.sh 27b` for Gemma 3 27B Q4_0, `run98.sh 27bk` for its Q4_K mix (a call each, for the time limit).
# Run from the repository root as `bash .gl/run98.sh` after copying it there; the JSON lines land in $OUT.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
if [ "$1" = 27b ]; then rows=gemma3-27b:q4_0; elif [ "$1" = 27bk ]; then rows=gemma3-27b:q4_k; else
rows="smollm2-135m:q4_1 gemma3-270m:q4_k qwen2.5-0.5b:q4_0 gemma3-1b:q4_0 gemma3-1b:q8_0 gemma3-1b:q4_k
gemma3-4b:q4_0 gemma3-4b:q4_k qwen2.5-7b:q4_0 qwen2.5-7b:q4_k llama3-8b:q4_k"; fi
for r in $rows; do gen ${r%:*} ${r#*:} & done; wait
B=.gl/bin
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
for r in $rows; do
  m=/tmp/${r%:*}-${r#*:}.gguf
  timeout 120 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 128 -r 5 -o json 2>/dev/null | sed "s/^/U $r /" >> $OUT/run98.txt
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -r 5 -o jsonl 2>/dev/null | sed "s/^/L $r /" >> $OUT/run98.txt
done
python3 - $OUT/run98.txt <<'PY'
import json, sys, statistics as st
res = {}
for line in open(sys.argv[1]):
    tool, row, js = line.split(' ', 2)
    try: d = json.loads(js)
    except Exception: continue
    t = d.get('test') or ('pp%d' % d['n_prompt'] if d.get('n_prompt') else 'tg%d' % d['n_gen'])
    res[(row, t, tool)] = d['samples_ts']
for (row, t, tool) in sorted(res):
    if tool != 'U': continue
    u = res[(row, t, 'U')]; l = res.get((row, t, 'L'))
    s = f"{row:20s} {t:6s} unicorn med {st.median(u):9.1f} mean {st.mean(u):9.1f}"
    if l: s += f" | llama med {st.median(l):9.1f} mean {st.mean(l):9.1f} min {min(l):9.1f} | ratio med {st.median(u)/st.median(l):.2f}"
    print(s)
PY
