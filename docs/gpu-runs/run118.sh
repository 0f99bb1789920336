#!/bin/bash
# Written 2026-12-05 (nineteenth session), not yet run: the issue's table on the issue's machine (H100),
# every row beside llama.cpp in the same call, from an empty context (DEPTHS=0) as the issue's figures:
# bash .gl/run118.sh small | 4b | 7b | 27b | 27bk (one device call each; 27B writes a 15 GB file first).
# .gl/bin as run116.sh's. tg weight-read = file bytes x tg128 t/s, against the issue's 3.06 TB/s.
cd "$(dirname "$0")/.."
. docs/gpu-runs/common.sh
export DEPTHS=0
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a $OUT/run118.txt
case "$1" in
small) rows="smollm2-135m:q4_1 gemma3-270m:q4_k qwen2.5-0.5b:q4_0 gemma3-1b:q4_0 gemma3-1b:q8_0 gemma3-1b:q4_k" ;;
4b) rows="gemma3-4b:q4_0 gemma3-4b:q4_k" ;;
7b) rows="qwen2.5-7b:q4_0 qwen2.5-7b:q4_k llama3-8b:q4_k" ;;
27b) rows="gemma3-27b:q4_0" ;;
27bk) rows="gemma3-27b:q4_k" ;;
*) echo "usage: run118.sh small|4b|7b|27b|27bk"; exit 2 ;;
esac
for r in $rows; do gen ${r%:*} ${r#*:}; done
for r in $rows; do
  models $r unicorn-bench:X=1 | tee -a $OUT/run118.txt
  echo "$r file bytes $(stat -c %s /tmp/${r%:*}-${r#*:}.gguf)" | tee -a $OUT/run118.txt
done
