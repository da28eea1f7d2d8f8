#!/usr/bin/env bash
# Fuzzes every parser with libFuzzer (ASan + libFuzzer instrumentation).
#
#   scripts/fuzz.sh [--seconds S | --runs N] [--seed N] [TARGET ...]
#
# TARGETs: scenario device model interconnect trace-azure trace-mooncake trace-csv trace-jsonl
# gguf tokenizer (default: all). Each target's seed corpus is the repository's own files of
# that kind (profiles, models, scenarios, trace heads, a tiny GGUF) plus Fuzz/corpus/TARGET
# and Fuzz/regressions/TARGET; what libFuzzer finds goes to .build-fuzz/corpus/TARGET. A crash is
# saved to .build-fuzz/crashes/ and fails the script; add it to Fuzz/regressions/TARGET so the
# corpus replay test (FuzzRegressionTests) keeps it fixed. CI runs `--runs 50000` (deterministic with the fixed seed); the long run
# quoted in the README is `--runs 1000000`. libFuzzer's seed is fixed (default 1) so that a run
# can be repeated.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-max_total_time=60)
fuzz_seed=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) limit=(-max_total_time="$2"); shift 2 ;;
        --runs) limit=(-runs="$2"); shift 2 ;;
        --seed) fuzz_seed="$2"; shift 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -eq 0 ] && targets=(scenario device model interconnect trace-azure trace-mooncake trace-csv trace-jsonl gguf tokenizer)

build=(swift build -c release --build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
for t in "${targets[@]}"; do INFERSIM_FUZZ=1 "${build[@]}" --product "fuzz-$t" 2>&1 | grep -E "error|warning: |Build of" || true; done
bin=.build-fuzz/release

seed() {  # seed TARGET DIR: the repository's files of that kind
    local t=$1 d=$2
    case "$t" in
        scenario) cp scenarios/quickstart.json scenarios/examples/*.json scenarios/comparisons/*.json "$d"/ ;;
        device) cp hardware-profiles/devices/*.json "$d"/ ;;
        model) cp scenarios/models/*.json "$d"/ ;;
        interconnect) cp hardware-profiles/interconnects/*.json "$d"/ ;;
        trace-azure) head -n 40 data/traces/azure2023_AzureLLMInferenceTrace_conv.csv > "$d/conv.csv"
                     head -n 40 data/traces/azure2023_AzureLLMInferenceTrace_code.csv > "$d/code.csv" ;;
        trace-mooncake) head -n 20 data/traces/mooncake_fast25_conversation_trace.jsonl > "$d/conv.jsonl"
                        head -n 20 data/traces/mooncake_fast25_synthetic_trace.jsonl > "$d/synthetic.jsonl" ;;
        trace-csv) cp scenarios/traces/executor-trace.csv scenarios/examples/bimodal-lengths.csv "$d"/ ;;
        trace-jsonl|gguf|tokenizer) ;;
    esac
}

status=0
mkdir -p .build-fuzz/crashes
for t in "${targets[@]}"; do
    corpus=.build-fuzz/corpus/$t
    mkdir -p "$corpus" "Fuzz/corpus/$t" "Fuzz/regressions/$t"
    seed "$t" "$corpus"
    log=.build-fuzz/$t.log
    if SWIFT_BACKTRACE=enable=no INFERSIM_FUZZ_TOKENIZER=Fuzz/corpus/gguf/tiny-llama.gguf "$bin/fuzz-$t" "${limit[@]}" -seed="$fuzz_seed" -timeout=10 -rss_limit_mb=4096 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix=".build-fuzz/crashes/$t-" \
        "$corpus" "Fuzz/corpus/$t" "Fuzz/regressions/$t" > "$log" 2>&1; then
        result=ok
    else
        result=CRASH
        status=1
    fi
    runs=$(grep -E "^stat::number_of_executed_units" "$log" | awk '{print $2}')
    secs=$(grep -E "^stat::average_exec_per_sec" "$log" | awk '{print $2}')
    printf '%-15s %-6s %12s runs %8s exec/s\n' "$t" "$result" "${runs:-?}" "${secs:-?}"
    [ "$result" = ok ] || grep -E "ERROR|runtime failure|Fatal error|SUMMARY|precondition" "$log" | head -5
done
exit $status
