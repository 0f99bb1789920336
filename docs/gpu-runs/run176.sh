#!/bin/bash
# Thirty-second session: run175.sh's checks (the four-group split form on the GPU, the quantized fixtures,
# Gemma 3 27B Q4_0 tg128 with and without it, Llama 3 8B Q4_K mix kernel by kernel beside llama.cpp) and
# the K-quant gap's last untested difference: the NV products' weights bound as a storage buffer
# (UNICORN_VK_CM2_BIND=1), as llama.cpp's kernel takes them, against the device address.
# .gl/bin: the build of this commit. test-vk-ops matmul and test-vk-models run with the bound form on, so
# that both the split form (mat-vec, which the switch leaves alone) and the bound products are checked.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
R=$OUT/run176.txt
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $R
gen gemma3-27b q4_0 & gen llama3-8b q4_k &
bindbench | tee -a $R
# the driver's statistics (registers, spills) of the NV Q4_K product in both forms
UNICORN_VK_PIPELINE_STATS=1 UNICORN_VK_CM2_BIND=1 timeout 60 $B/vk-kernel-bench -r 2 mm:q4_k:14336:4096:512 2>&1 | grep -E 'matmul_cm2hb?_q4_k' | cut -c1-400 | tee -a $R
(SECONDS=0; UNICORN_VK_CM2_BIND=1 timeout 200 $B/test-vk-ops matmul > $OUT/o-mm.txt 2>&1; echo "test-vk-ops matmul (BIND=1) rc $? ${SECONDS}s") | tee -a $R
grep -m4 "check failed\|four-group\|matmul cases\|CM2_BIND" $OUT/o-mm.txt | tee -a $R
UNICORN_VK_CM2_BIND=1 UNICORN_QUANTIZE=$PWD/$B/unicorn-quantize timeout 180 $B/test-vk-models > $OUT/m.txt 2>&1
echo "test-vk-models (BIND=1) rc $?: $(grep -m2 'check failed\|SKIP\|quantized fixtures\|CM2_BIND' $OUT/m.txt | cut -c1-200 | tr '\n' ' ')" | tee -a $R
C="mvq:q4_0:5376:21504 mvq:q4_0:3584:18944 mvq:q4_0:18944:3584 mvq:q4_0:37888:3584 gluq:q4_0:18944:3584 glus:q4_0:18944:3584"
for e in X=1 UNICORN_VK_MV8_SPLIT4=0 X=1; do
  echo "$e: $(env $e timeout 60 $B/vk-kernel-bench -r 200 $C 2>&1 | grep -E '^(mv|glu)' | awk '{print $5}' | tr '\n' ' ')"
done | tee -a $R
wait
sweep llama3-8b-q4_k X=1 UNICORN_VK_CM2_BIND=1 X=1 UNICORN_VK_CM2_BIND=1 2>&1 | tee -a $R
# whether every product of the model took the bound form (a fallback is said on stderr once)
echo "8B with BIND=1 says: $(UNICORN_VK_CM2_BIND=1 timeout 60 $B/unicorn-bench --backend vulkan -m /tmp/llama3-8b-q4_k.gguf -p 512 -n 0 -r 1 2>&1 >/dev/null | grep 'unicorn:' | tr '\n' ' ')" | tee -a $R
tg gemma3-27b-q4_0 X=1 UNICORN_VK_MV8_SPLIT4=0 X=1 UNICORN_VK_MV8_SPLIT4=0 | tee -a $R
echo "at ${SECONDS}s" | tee -a $R
if [ $SECONDS -lt 420 ]; then vkcompare llama3-8b-q4_k; head -60 $OUT/compare-llama3-8b-q4_k.txt >> $R; fi
echo "total ${SECONDS}s" | tee -a $R
