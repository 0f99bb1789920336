#!/bin/bash
# Written 2026-12-05 (fifteenth session) after run103.sh, .gl/bin from the working tree after 95d68c7 (attn_cm
# heads of 128: 64 positions a block). run103.sh's profile of Gemma 3 1B Q8_0 pp512 put the products at
# ~446 us a layer in the step against ~240 us for the same shapes alone, in 9 product dispatches a layer
# (q, k, v, gate and up apart). Here the small models' prefill with q/k/v joined (UNICORN_VK_QKV_FUSED=3)
# and gate/up joined (UNICORN_VK_GU_FUSED=1), each and both, against the default, two passes; then the NV
# kernel's switches on the Q8_0 products (run103.sh's loop printed no figures), with the word-at-a-time
# decode of Q4_0 and Q8_0 (UNICORN_VK_CM2_WORD=1, new in this build): its test-vk-ops first, then the
# kernels and the 1B rows' prefill with it.
# Run from the repository root as `bash .gl/run104.sh` after copying it there.
cd "$(dirname "$0")/.."
for f in .gl/*.deb; do dpkg -x $f / ; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export XDG_CACHE_HOME=/tmp/vkc
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
B=.gl/bin
gen() { [ -f /tmp/$1-$2.gguf ] || python3 tools/gen-random-gguf.py $1 $2 /tmp/$1-$2.gguf >/dev/null; }
med() { python3 -c 'import json,sys,statistics as s; d=json.load(sys.stdin); print("%.1f" % s.median(d["samples_ts"]))'; }
UNICORN_VK_CM2_WORD=1 $B/test-vk-ops > $OUT/test-vk-ops-word.txt 2>&1; echo "test-vk-ops word rc $?"; grep -i "fail\|cooperative" $OUT/test-vk-ops-word.txt | head -5
rows="gemma3-1b:q8_0 gemma3-1b:q4_0 gemma3-270m:q4_k gemma3-4b:q4_0"
for r in $rows; do gen ${r%:*} ${r#*:} & done; wait
for r in $rows; do
  m=/tmp/${r%:*}-${r#*:}.gguf; line="$r"
  for pass in 1 2; do
    for e in X=1 UNICORN_VK_QKV_FUSED=3 UNICORN_VK_GU_FUSED=1 "UNICORN_VK_QKV_FUSED=3 UNICORN_VK_GU_FUSED=1" UNICORN_VK_CM2_WORD=1; do
      line="$line | $(env $e $B/unicorn-bench --backend vulkan -m $m -p 512 -n 0 -r 10 -o json 2>/dev/null | med)"
    done
  done
  echo "$line" | tee -a $OUT/run104.txt
done
for e in X=1 UNICORN_VK_CM2_WORD=1 UNICORN_VK_CM2_DEC16=1 UNICORN_VK_CM2_BK=32 UNICORN_VK_CM2_BN=64 UNICORN_VK_CM2_BN=256 UNICORN_VK_CM2_UNROLL=512 X=2 "UNICORN_VK_CM2_WORD=1 UNICORN_VK_CM2_BK=32"; do
  echo "$e: $(env $e $B/vk-kernel-bench -r 50 mm:q8_0:1536:1152:512 mm:q8_0:1152:1024:512 mm:q8_0:6912:1152:512 mm:q8_0:1152:6912:512 mm:q8_0:256:1152:512 mm:q8_0:13824:1152:512 mm:q4_0:6912:1152:512 mm:q4_0:18944:3584:512 mm:q4_0:5376:21504:512 2>&1 | grep ^mm | awk '{print $6}' | tr '\n' ' ')"
done | tee -a $OUT/run104.txt
