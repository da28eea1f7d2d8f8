#!/usr/bin/env bash
# Prints the README's per-class decode table: Llama-2-7B and Llama-2-70B decode, 128 prompt +
# 512 output tokens, at batch 1 and at the batch (power of two) with the most tokens/s per
# device that fits. Needs a built infersim (INFERSIM=path, default .build/release/infersim) and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${INFERSIM:-.build/release/infersim}
row() {  # class, model, label, then predict options
  local class=$1 model=$2 label=$3; shift 3
  local one best=0 bestb=1 bestjson
  one=$($BIN predict --model "$model" --input 128 --output 512 --batch 1 --json "$@" 2>/dev/null) || { echo "| $class | $model | $label | does not fit | | | | |"; return; }
  [ "$(echo "$one" | jq .fits)" = true ] || { echo "| $class | $model | $label | does not fit | | | | |"; return; }
  bestjson=$one
  for b in 2 4 8 16 32 64 128 256 512 1024 2048; do
    j=$($BIN predict --model "$model" --input 128 --output 512 --batch $b --json "$@" 2>/dev/null) || break
    [ "$(echo "$j" | jq .fits)" = true ] || break
    v=$(echo "$j" | jq '.batch / .tpot_ms * 1000 / .devices')
    if awk "BEGIN{exit !($v > $best)}"; then best=$v; bestb=$b; bestjson=$j; fi
  done
  for j in "$one" "$bestjson"; do
    echo "$j" | jq -r --arg c "$class" --arg l "$label" '"| \($c) | \(.model) | \($l) ×\(.devices) | \(.batch) | \(1000 / .tpot_ms | floor) | \(.batch / .tpot_ms * 1000 / .devices | if . < 10 then (. * 100 | round / 100) else floor end) | \(.joules_per_output_token * 1000 | round / 1000) | \(.decode_bound) |"'
  done
}
echo "| class | model | device | batch | tok/s per user | tok/s per device | J/token | decode bound by |"
echo "|---|---|---|---:|---:|---:|---:|---|"
for m in llama-2-7b llama-2-70b; do
  tp=1; [ $m = llama-2-70b ] && tp=4
  row "HBM GPU (roofline)" $m "H100 SXM, FP16" --hardware nvidia-h100-sxm --tp $tp
  row "CPU (measuredKernels)" $m "Xeon SPR, Q4_0" --hardware intel-xeon-spr --weights q4_0 --activations q8_0
  row "SRAM pipeline" $m "Groq LPU, FP16" --hardware groq-lpu
  row "wafer" $m "Cerebras WSE-3, FP16" --hardware cerebras-wse-3
  row "PIM: attention in memory" $m "A100-HBM3 + AttAcc, FP16" --hardware attacc-a100-hbm3 --tp $tp --pim-placement attentionInMemory
  row "PIM: decode in memory" $m "MI100 + HBM-PIM, FP16" --hardware amd-mi100-hbm-pim --pim-placement decodeInMemory
  row "FPGA dataflow" $m "VHK158 FlightLLM, INT8" --hardware xilinx-vhk158 --weights int8 --activations int8
done
