#!/usr/bin/env bash
# Draws every kind of InferSim figure and renders each SVG to PNG in headless Chromium, so that
# a person can look at them (tests check the SVGs' structure and numbers; this checks the look).
#   bash scripts/render-plots.sh [OUTDIR]        (default /tmp/infersim-plots)
# Needs a built infersim (INFERSIM=path, default .build/debug/infersim). Installs the Debian
# package `chromium` if no Chromium is on PATH (needs root and apt).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${INFERSIM:-.build/debug/infersim}
OUT=${1:-/tmp/infersim-plots}
mkdir -p "$OUT"

CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then
  echo "installing chromium (Debian package)..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  CHROME=$(command -v chromium)
fi

# 1. Roofline + stacked time by operator class (explain --plot).
$BIN explain --hardware nvidia-h100-sxm --model llama-3-8b --batch 16 --input 1024 --output 128 --plot "$OUT/explain-roofline.svg" >/dev/null
# 2. One mixed chunked-prefill step, stacked by operator class (explain --step --plot).
$BIN explain --hardware nvidia-h200 --model llama-3.1-8b --engine pytorch-cudagraphs \
  --step prefill=512@1024,decode=64@1024 --plot "$OUT/explain-step.svg" >/dev/null 2>&1
# 3. TTFT/TPOT CDFs, batch size and KV utilisation over time (simulate --plot).
$BIN simulate --plot "$OUT/simulate.svg" >/dev/null
# 4. Latency against throughput and 5. a two-axis heatmap (sweep --plot, --heatmap).
$BIN sweep scenarios/quickstart.json --vary workload.generator.arrivals.poisson.ratePerSecond=2,4,8 \
  --vary scheduler.maxBatchSize=16,64,256 --plot "$OUT/sweep-latency-throughput.svg" \
  --heatmap "$OUT/sweep-heatmap.svg" --heatmap-metric ttft-p99 >/dev/null 2>&1

for svg in "$OUT"/*.svg; do
  # The SVG's own size, so the screenshot is the whole figure.
  read -r w h < <(sed -n 's/^<svg[^>]* width="\([0-9.]*\)" height="\([0-9.]*\)".*/\1 \2/p' "$svg" | head -1)
  "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="${w%.*},${h%.*}" --screenshot="${svg%.svg}.png" "file://$(realpath "$svg")" >/dev/null 2>&1
  echo "${svg%.svg}.png"
done
