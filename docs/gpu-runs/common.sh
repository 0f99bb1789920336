# Sourced by the GPU-machine scripts from run116.sh on (run from the repository root, .gl carried):
# the Vulkan loader, the NVIDIA driver's ICD, $OUT, $B, and the helpers every run used to repeat.
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT; B=.gl/bin

# gen ARCH TYPE: /tmp/ARCH-TYPE.gguf, random weights at the real shapes (tools/gen-random-gguf.py).
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }

# models ARCH:TYPE BENCH:ENV...: each .gl/bin BENCH with ENV (X=1: none; A=1,B=2: both) at pp512 / tg128
# from depths $DEPTHS (default 0,4096; median of 5), then llama-bench beside it (median of its last 5 of 6).
models() {
  local r=$1 m=/tmp/${1%:*}-${1#*:}.gguf; shift
  [ -x /tmp/llama-bench ] || { xz -dc .gl/bin/llama-bench.xz > /tmp/llama-bench && chmod +x /tmp/llama-bench; }
  for be in "$@"; do
    local b=${be%%:*} e=${be#*:}
    env ${e//,/ } timeout 90 $B/$b --backend vulkan -m $m -p 512 -n 128 -d ${DEPTHS:-0,4096} -r 5 -o json 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r $b $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
  done
  LD_LIBRARY_PATH=$PWD/.gl/lib timeout 110 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -d ${DEPTHS:-0,4096} -r 6 -o jsonl 2>/dev/null |
    python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r"' llama.cpp", d["n_prompt"], d["n_gen"], d["n_depth"], "%.1f" % s.median(d["samples_ts"][1:]))'
}
