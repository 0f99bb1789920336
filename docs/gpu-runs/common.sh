# Sourced by the GPU-machine scripts from run116.sh on (run from the repository root, .gl carried):
# the Vulkan loader, the NVIDIA driver's ICD, $OUT, $B, and the helpers every run used to repeat.
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; B=.gl/bin

# gen ARCH TYPE: /tmp/ARCH-TYPE.gguf, random weights at the real shapes (tools/gen-random-gguf.py).
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }

# gputests: both GPU tests of .gl/bin, a line each (rc, first failed check or skip); full logs $OUT/m.txt, $OUT/o.txt.
gputests() {
  # the quantized fixtures too (made by unicorn-quantize; skipped without it before the thirtieth session)
  UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 180 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models rc $?: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-240)"
  # each line with the seconds since the start (test-vk-ops took over 240 s in run135.sh and run137.sh)
  (SECONDS=0; timeout 420 stdbuf -oL $B/test-vk-ops 2>&1; echo "rc $?") |
    while IFS= read -r l; do echo "$SECONDS $l"; done > $OUT/o.txt
  echo "test-vk-ops $(tail -1 $OUT/o.txt | cut -d' ' -f2-3): $(grep -m1 'check failed\|SKIP' $OUT/o.txt | cut -c1-240)"
  true
}

# rulebench CASE...: vk-kernel-bench -r 20 on the cases with the default NV tile rule, llama.cpp's
# (UNICORN_VK_CM2_RULE=llama), then the default again (run it after the whole-model runs: its first process
# on a fresh machine ran 3-4x slow twice in run119.sh/run121.sh).
rulebench() {
  local e
  for e in X=1 UNICORN_VK_CM2_RULE=llama X=1; do
    echo "== vk-kernel-bench -r 20 ($e)"; env $e timeout 60 $B/vk-kernel-bench -r 20 "$@" 2>&1 | tail -$(($# + 1))
  done
}

# models ARCH:TYPE BENCH:ENV...: each .gl/bin BENCH with ENV (X=1: none; A=1+B=2: both; a value may hold commas, as UNICORN_VK_MV8=2,2,128 does) at pp512 / tg128
# from depths $DEPTHS (default 0,4096; median of 5), then llama-bench beside it (median of its last 5 of 6).
models() {
  local r=$1 m=/tmp/${1%:*}-${1#*:}.gguf; shift
  [ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
  for be in "$@"; do
    local b=${be%%:*} e=${be#*:}
    env ${e//+/ } timeout 90 $B/$b --backend vulkan -m $m -p 512 -n 128 -d ${DEPTHS:-0,4096} -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r $b $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 110 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -d ${DEPTHS:-0,4096} -r 6 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r"' llama.cpp", d["n_prompt"], d["n_gen"], d["n_depth"], "%.1f" % s.median(d["samples_ts"][1:]))'
}

# sweep MODEL ENV...: pp512 from an empty context of /tmp/MODEL.gguf with each ENV (X=1: none; A=1+B=2: both; median of 8),
# then llama.cpp's (median of its last 10 of 20, past its clock ramp). An ENV named bin* is instead a build: .gl/bin*.
sweep() {
  local m=$1 e b v; shift
  [ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
  for e in "$@"; do
    case $e in bin*) b=.gl/$e v=X=1;; *) b=$B v=$e;; esac
    env ${v//+/ } timeout 90 $b/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 512 -n 0 -r 8 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 110 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 -p 512 -n 0 -r 20 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m"' llama.cpp pp512 (median of the last 10 of 20)", "%.1f" % s.median(d["samples_ts"][10:]))'
}

# vkcompare MODEL [TOKENS]: one prefill step of TOKENS (default 512) tokens, GPU time per kernel and shape from both
# engines (UNICORN_VK_PROFILE=1, GGML_VK_PERF_LOGGER=1) side by side: $OUT/compare-MODEL[-TOKENS].txt
# (tools/vk-profile-compare.py).
vkcompare() {
  local m=$1 t=${2:-512} s=${2:+-$2}
  [ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
  UNICORN_VK_PROFILE=1 timeout 90 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p $t -n 0 -r 3 \
    > $OUT/profile-$m$s.txt 2>&1
  GGML_VK_PERF_LOGGER=1 LD_LIBRARY_PATH=$PWD/.gl/lib timeout 120 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 \
    -p $t -n 0 -r 3 > $OUT/llama-perf-$m$s.txt 2>&1
  python3 tools/vk-profile-compare.py $OUT/profile-$m$s.txt $OUT/llama-perf-$m$s.txt $t > $OUT/compare-$m$s.txt 2>&1
  xz -9 $OUT/llama-perf-$m$s.txt
}


# tg MODEL ENV...: tg128 from an empty context of /tmp/MODEL.gguf with each ENV in turn (X=1: none; A=1+B=2:
# both; median of 5), one line each (run174.sh-run175a.sh wrote this loop out).
tg() {
  local m=$1 e; shift
  for e in "$@"; do
    env ${e//+/ } timeout 100 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p 0 -n 128 -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
}

# bindbench: the NV products of the Llama 3 8B and Qwen2.5 7B shapes at 512 tokens (vk-kernel-bench -r 20,
# µs a case on one line) by default, with the weights bound (UNICORN_VK_CM2_BIND=1) and with the K-quant
# header prefetch (UNICORN_VK_CM2_PIPE=1), twice in turn; full output in $OUT/kb-bind.txt. (The bound form was
# removed after run176.sh, d4d2cc9: since then UNICORN_VK_CM2_BIND=1 changes nothing.)
bindbench() {
  local e M="mm:q4_k:14336:4096:512 mm:q4_k:4096:14336:512 mm:q4_k:18944:3584:512 mm:q6_k:4096:14336:512 mm:q4_0:18944:3584:512"
  echo "== $M"
  for e in X=1 UNICORN_VK_CM2_BIND=1 UNICORN_VK_CM2_PIPE=1 X=1 UNICORN_VK_CM2_BIND=1 UNICORN_VK_CM2_PIPE=1; do
    echo "$e: $(env $e timeout 40 $B/vk-kernel-bench -r 20 $M 2>&1 | tee -a $OUT/kb-bind.txt | grep -E '^mm' | awk '{print $6}' | tr '\n' ' ')"
  done
}

# kbins CASES ENTRY...: vk-kernel-bench -r 20 CASES with each ENTRY in turn, µs a case on one line (run178.sh,
# run179.sh, run182.sh-run184.sh): an ENTRY named bin* is a build, .gl/bin* (full output in $OUT/kb-bin*.txt),
# any other an environment for .gl/bin (X=1: none; A=1+B=2: both; full output in $OUT/kb.txt), as sweep takes them.
kbins() {
  local M=$1 e b v f; shift
  echo "== $M"
  for e in "$@"; do
    case $e in bin*) b=.gl/$e v=X=1 f=$OUT/kb-$e.txt;; *) b=$B v=$e f=$OUT/kb.txt;; esac
    echo "$e: $(env ${v//+/ } timeout 40 $b/vk-kernel-bench -r 20 $M 2>&1 | tee -a $f | grep -E '^mm' | awk '{print $6}' | tr '\n' ' ')"
  done
}

# pplens MODEL LENGTHS ENV...: unicorn-bench pp at each of LENGTHS (comma-separated) from an empty context of
# /tmp/MODEL.gguf with each ENV (X=1: none; an ENV named bin* is a build, .gl/bin*; median of 8), then
# llama.cpp's at the same lengths (median of its last 6 of 12; run182.sh-run184.sh).
pplens() {
  local m=$1 p=$2 e b v; shift 2
  [ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
  for e in "$@"; do
    case $e in bin*) b=.gl/$e v=X=1;; *) b=$B v=$e;; esac
    env ${v//+/ } timeout 100 $b/unicorn-bench --backend vulkan -m /tmp/$m.gguf -p $p -n 0 -r 8 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 100 /tmp/llama-bench -m /tmp/$m.gguf -ngl 99 -p $p -n 0 -r 12 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m"' llama.cpp pp%d (median of the last 6 of 12)" % d["n_prompt"], "%.1f" % s.median(d["samples_ts"][6:]))'
}

# mmtests [ENV]: test-vk-ops matmul (with ENV, e.g. UNICORN_VK_CM2_PLUS=32; X=1: none) and test-vk-models, a line
# each with the exit status, the seconds and the first failed check or skip, then the last 3 lines of test-vk-ops'
# output (its case counts); full logs $OUT/o-mm.txt, $OUT/m.txt (run184.sh-run189.sh).
mmtests() {
  local e=${1:-X=1}
  (SECONDS=0; env ${e//+/ } timeout 100 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul ($e) rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/o-mm.txt | cut -c1-240)")
  tail -3 $OUT/o-mm.txt
  (SECONDS=0; env ${e//+/ } UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 60 $B/test-vk-models > $OUT/m.txt 2>&1; echo "test-vk-models ($e) rc $? in ${SECONDS}s: $(grep -m1 'check failed\|SKIP' $OUT/m.txt | cut -c1-240)")
}

# batched MODEL SEQS [ENV...]: sequences decoding together in one context, as llama-batched-bench
# measures them: for each count in SEQS (comma-separated), prompts of 128 tokens each as one stream (pp128 xN)
# and 128 steps of one token of every sequence after them (tg128 xN @ d128), t/s over all sequences (median of 5),
# with each ENV (X=1: none); then llama-batched-bench -npp 128 -ntg 128 -npl SEQS twice over (its second pass:
# one sample each, its first pass ramps the clocks; S_PP and S_TG are the same measures). NOPP=1: no pp128 xN;
# NOTG=1: no tg128 xN.
batched() {
  local m=$1 s=$2 e; shift 2
  [ -x /tmp/llama-batched-bench ] || { xz -dc .gl/bin/llama-batched-bench.xz > /tmp/llama-batched-bench && chmod +x /tmp/llama-batched-bench; }
  for e in "${@:-X=1}"; do
    { [ "${NOPP:-0}" = 1 ] || env ${e//+/ } timeout 100 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -s $s -p 128 -n 0 -r 5 -o json 2>/dev/null
      [ "${NOTG:-0}" = 1 ] || env ${e//+/ } timeout 150 $B/unicorn-bench --backend vulkan -m /tmp/$m.gguf -s $s -p 0 -n 128 -d 128 -r 5 -o json 2>/dev/null; } |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$m $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 150 /tmp/llama-batched-bench -m /tmp/$m.gguf -ngl 99 -c 8448 -b 2048 -ub 512 \
    -npp 128 -ntg 128 -npl $s,$s --output-format jsonl 2>/dev/null | grep '^{' | python3 -c 'import json,sys
rows = [json.loads(l) for l in sys.stdin]
for d in rows[len(rows) // 2:]: print("'"$m"' llama.cpp pl %d: S_PP %.1f S_TG %.1f" % (d["pl"], d["speed_pp"], d["speed_tg"]))'
}

# sessions MODEL CLIENTS PARALLEL: tools/sessions-bench.py through the daemon (.gl/sbuild) with dbus-daemon
# from .gl/dbus (run194.sh says how it is made), 128 greedy tokens a client, 3 rounds, UNICORN_VK_HOST_TIMES=1;
# the daemon's logs in $OUT/log-MODEL-cCLIENTS, their context lines after the bench's (run195.sh-run197.sh).
sessions() {
  local m=$1 c=$2 p=$3 l=$OUT/log-$1-c$2
  mkdir -p $l
  PATH=$PWD/.gl/dbus:$PATH UNICORN_VK_HOST_TIMES=1 LD_LIBRARY_PATH=$PWD/.gl/dbus/lib timeout 100 python3 tools/sessions-bench.py \
    --build .gl/sbuild --model /tmp/$m.gguf --clients $c --parallel $p --tokens 128 --rounds 3 --backend vulkan \
    --bus-config $PWD/.gl/dbus/bus.conf --log $l 2>&1 | grep -v 'fd limit'
  grep -h 'vk-host.*contexts' $l/*.log
}
