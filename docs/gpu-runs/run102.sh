#!/bin/bash
# Written 2026-12-05 (fifteenth session), .gl/bin built from 95d68c7: (1) the prefill's last-row logits on
# the 8-bit mat-vec (95d68c7) against a877e6b's engine (.gl/bin/unicorn-bench-a877) at pp512;
# (2) run101.sh's long llama-bench runs (the median of its last 10 of 30 samples, past the clock ramp);
# (3) run100.sh's prefill-attention shape sweep. `run102.sh 27b` does (1) for Gemma 3 27B Q4_K only.
# Run from the repository root as `bash .gl/run102.sh` after copying it there.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
B=.gl/bin
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
ab() { m=/tmp/$1.gguf
  for b in unicorn-bench-a877 unicorn-bench unicorn-bench-a877 unicorn-bench; do
    echo "$1 $b $($B/$b --backend vulkan -m $m -p 512 -n 0 -r 10 -o json 2>/dev/null | python3 -c 'import json,sys,statistics as s; d=json.load(sys.stdin); print("med %.1f" % s.median(d["samples_ts"]))')"
  done | tee -a $OUT/run102-ab.txt; }
if [ "$1" = 27b ]; then gen gemma3-27b q4_k; ab gemma3-27b-q4_k; exit; fi
rows="gemma3-1b:q4_0 gemma3-1b:q8_0 gemma3-4b:q4_k qwen2.5-0.5b:q4_0"
for r in $rows; do gen ${r%:*} ${r#*:} & done; wait
ab gemma3-1b-q4_0
xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench
for r in $rows; do
  m=/tmp/${r%:*}-${r#*:}.gguf
  timeout 60 $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 10 -o json 2>/dev/null | sed "s/^/U $r /" >> $OUT/run102.txt
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 60 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 0 -r 30 -o jsonl 2>/dev/null | sed "s/^/L $r /" >> $OUT/run102.txt
done
python3 - $OUT/run102.txt <<'PY'
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
K="$B/vk-kernel-bench -r 50"
for sh in def 64,32,1 64,64,1 128,64,1 128,32,2 256,32,2 256,32,1; do
  e=X=1; [ $sh != def ] && e=UNICORN_VK_ATTN_CM_SHAPE=$sh
  echo "shape $sh: $(export $e; $K attnpf:32,16,128,512 attnpf:32,16,128,512,3584 attnpf:32,8,128,512 2>&1 | grep ^attnpf | awk '{print $2, $3}' | tr '\n' ' ')"
done
for sh in def 256,32,4 256,32,8 128,16,4 128,32,2 64,32,2 64,32,1; do
  e=X=1; [ $sh != def ] && e=UNICORN_VK_ATTN_CM_SHAPE=$sh
  echo "shape $sh: $(export $e; $K attnpf:4,1,256,512 attnpf:4,1,256,512,3584 attnpf:8,4,256,512 2>&1 | grep ^attnpf | awk '{print $2, $3}' | tr '\n' ' ')"
done
