#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600: the long form; CI uses 30).
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Prints, per target: executions, coverage, and whether anything crashed. Exits 1 on a crash;
# the crashing input is left in fuzz/artifacts/TARGET/ (turn it into a regression test).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-600}"
targets=(decode_responses callbacks envelope canonicalize cli_params)
cargo +nightly fuzz build >/dev/null
status=0
for target in "${targets[@]}"; do
    log="$(mktemp)"
    if cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        verdict="no crash"
    else
        verdict="CRASH (see fuzz/artifacts/$target)"
        status=1
    fi
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -E '#[0-9]+.*cov:' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
    echo "fuzz $target: ${seconds}s, ${runs:-?} executions, coverage ${cov:-?} edges, $verdict"
    [ "$status" -eq 0 ] || tail -30 "$log"
    rm -f "$log"
done
exit "$status"
