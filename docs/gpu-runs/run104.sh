#!/bin/bash
# Written 2026-12-05 (fifteenth session; got no machine that session), for .gl/bin built from the commit
# that adds shaders/attn_cm2.comp or later. Three experiments, all off by default until measured:
#  - UNICORN_VK_ATTN_CM2=1: prefill attention on NV workgroup-scope matrices (attn_cm2.comp) instead of
#    KHR ones (attn_cm.comp), where the step's positions do not wrap the ring;
#  - UNICORN_VK_CM2_WORD=1: the NV product decoding Q4_0 and Q8_0 a 32-bit word an element;
#  - UNICORN_VK_QKV_FUSED=3 / UNICORN_VK_GU_FUSED=1 on the small models' prefill (run103.sh's profile
#    of Gemma 3 1B Q8_0 put its 9 product dispatches a layer at ~446 us in the step, ~240 alone).
# And, since the sixteenth session, the KV cache's f16 rows (the default for default activations since
# then; never run on a GPU) against f32 ones (UNICORN_VK_DISABLE_KV16=1): the attention kernels and
# whole-model pp512 and tg128.
# Order: tests first (test-vk-ops runs attn_cm2 on its own; test-vk-models with each switch), then the
# kernels side by side, then whole-model pp512 (median of -r 10, two passes, each switch beside the
# default). Run from the repository root as `bash .gl/run104.sh [PARTS]` after copying it there;
# PARTS (default "tests kernels models decode") picks the parts, so that the whole fits two calls.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
B=.gl/bin
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
med() { python3 -c 'import json,sys,statistics as s; d=json.load(sys.stdin); print("%.1f" % s.median(d["samples_ts"]))'; }
rows="gemma3-1b:q8_0 gemma3-1b:q4_0 gemma3-4b:q4_0 qwen2.5-7b:q4_0 gemma3-270m:q4_k"
for r in $rows; do gen ${r%:*} ${r#*:} & done
parts=${1:-tests kernels models decode}
if [[ " $parts " == *" tests "* ]]; then
# Since 7cca5a1 the KHR kernels (matmul_cm, attn_cm) take their matrix and subgroup sizes as
# specialization constants (16 and 32 here): the first GPU run of that build, so their lines too.
timeout 300 $B/test-vk-ops > $OUT/test-vk-ops.txt 2>&1; echo "test-vk-ops rc $?"; grep -i "attn_cm2\|NV, attn\|fail\|matmul cases\|device:" $OUT/test-vk-ops.txt | head -14
UNICORN_VK_CM2_WORD=1 timeout 200 $B/test-vk-ops > $OUT/test-vk-ops-word.txt 2>&1; echo "test-vk-ops word rc $?"; grep -i fail $OUT/test-vk-ops-word.txt | head -5
for e in X=1 UNICORN_VK_ATTN_CM2=1 UNICORN_VK_CM2_WORD=1; do
  env $e timeout 150 $B/test-vk-models > $OUT/test-vk-models-${e%%=*}.txt 2>&1; echo "test-vk-models $e rc $?"; grep -i fail $OUT/test-vk-models-${e%%=*}.txt | head -5
done
fi
wait
K="$B/vk-kernel-bench -r 50"
if [[ " $parts " == *" kernels "* ]]; then
for e in X=1 UNICORN_VK_DISABLE_KV16=1 UNICORN_VK_ATTN_CM2=1 "UNICORN_VK_ATTN_CM2=1 UNICORN_VK_DISABLE_KV16=1" "UNICORN_VK_ATTN_CM2=1 UNICORN_VK_ATTN_CM2_SHAPE=32,64" "UNICORN_VK_ATTN_CM2=1 UNICORN_VK_ATTN_CM2_SHAPE=64,32" "UNICORN_VK_ATTN_CM2=1 UNICORN_VK_ATTN_CM2_SHAPE=32,32"; do
  echo "$e: $(env $e $K attnpf:4,1,256,512 attnpf:8,4,256,512 attnpf:32,16,128,512 attnpf:28,4,128,512 attnpf:32,16,128,512,3584 attnpf:4,1,256,512,3584 2>&1 | grep ^attnpf | awk '{print $3, $NF}' | tr '\n' ' ')"
done | tee -a $OUT/run104.txt
for e in X=1 UNICORN_VK_CM2_WORD=1 UNICORN_VK_CM2_DEC16=1 UNICORN_VK_CM2_BK=32 UNICORN_VK_CM2_BN=64 X=2 "UNICORN_VK_CM2_WORD=1 UNICORN_VK_CM2_BK=32"; do
  echo "$e: $(env $e $K mm:q8_0:1536:1152:512 mm:q8_0:1152:1024:512 mm:q8_0:6912:1152:512 mm:q8_0:1152:6912:512 mm:q8_0:13824:1152:512 mm:q4_0:6912:1152:512 mm:q4_0:18944:3584:512 mm:q4_0:5376:21504:512 2>&1 | grep ^mm | awk '{print $6}' | tr '\n' ' ')"
done | tee -a $OUT/run104.txt
# The seventeenth session's experiment (shaders/gridsync.comp): a grid-wide wait inside one dispatch
# against a dispatch boundary, streaming the bytes of a 7B layer's o then GLU, GLU then down, and
# next to nothing, with 1, 2 and 4 workgroups a multiprocessor (the H200 has 132).
for g in 132 264 528; do
  $K gridsync:7,76,$g gridsync:76,38,$g gridsync:1,1,$g 2>&1 | grep -v "^device\|^coopmat"
done | tee -a $OUT/run104.txt
fi
if [[ " $parts " == *" models "* ]]; then
for r in $rows; do
  m=/tmp/${r%:*}-${r#*:}.gguf; line="$r"
  for pass in 1 2; do
    for e in X=1 UNICORN_VK_DISABLE_KV16=1 UNICORN_VK_ATTN_CM2=1 UNICORN_VK_CM2_WORD=1 "UNICORN_VK_QKV_FUSED=3 UNICORN_VK_GU_FUSED=1"; do
      line="$line | $(env $e $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 10 -o json 2>/dev/null | med)"
    done
  done
  echo "$line" | tee -a $OUT/run104.txt
done
fi
# Decode and prefill deep in the context with the f16 cache against f32 (tg128 and pp512 at depths 0
# and 4096: unicorn-bench -d since the seventeenth session), two passes.
if [[ " $parts " == *" decode "* ]]; then
for r in gemma3-1b:q4_0 qwen2.5-7b:q4_0; do
  m=/tmp/${r%:*}-${r#*:}.gguf
  for pass in 1 2; do
    for e in X=1 UNICORN_VK_DISABLE_KV16=1; do
      env $e $B/unicorn-bench --backend vulkan -m $m -p 512 -n 128 -d 0,4096 -r 5 -o json 2>/dev/null |
        python3 -c 'import json,sys,statistics as s
for l in sys.stdin: d=json.loads(l); print("'"$r $e"'", d["test"], "%.1f" % s.median(d["samples_ts"]))'
    done
    # llama.cpp beside it (its -d: same meaning), the median of its last 5 of 10 samples.
    [ -x /tmp/llama-bench ] || { xz -dc $B/llama-bench.xz > /tmp/llama-bench; chmod +x /tmp/llama-bench; }
    LD_LIBRARY_PATH=$PWD/.gl/lib timeout 200 /tmp/llama-bench -m $m -ngl 99 -p 512 -n 128 -d 0,4096 -r 10 -o jsonl 2>/dev/null |
      python3 -c 'import json,sys,statistics as s
for l in sys.stdin:
  d=json.loads(l); t=("pp%d" % d["n_prompt"] if d["n_prompt"] else "tg%d" % d["n_gen"]) + (" @ d%d" % d["n_depth"] if d.get("n_depth") else "")
  print("'"$r"' llama.cpp", t, "%.1f" % s.median(d["samples_ts"][-5:]))'
  done
done | tee -a $OUT/run104.txt
fi
