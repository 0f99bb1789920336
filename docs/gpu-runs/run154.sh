#!/bin/bash
# Run 2026-12-06 (twenty-eighth session), 36 s, .gl/bin: f0d4d9c. Gemma 3 1B Q8_0 (0.88-1.07x of llama.cpp
# so far): the default against Q8_0 decoded in f16 arithmetic (UNICORN_VK_CM2_DEC16=1) and a word at a
# time (UNICORN_VK_CM2_WORD=2), alternating three times.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
gen gemma3-1b q8_0
sweep gemma3-1b-q8_0 X=1 UNICORN_VK_CM2_DEC16=1 UNICORN_VK_CM2_WORD=2 X=1 UNICORN_VK_CM2_DEC16=1 UNICORN_VK_CM2_WORD=2 X=1 UNICORN_VK_CM2_DEC16=1 UNICORN_VK_CM2_WORD=2
echo "total ${SECONDS}s"
