#!/usr/bin/env bash
# Mutation testing (cargo-mutants) of the decision logic: imts-core's life cycle, retry
# classification, token session, call driver and signature canonicalization, and imts-callbacks'
# verifier and de-duplication. Slow (minutes per module on 2 cores): not run by CI.
# Results in mutants.out/ (outcomes.json, caught.txt, missed.txt); docs/testing.md has the scores.
# Usage: scripts/mutants.sh [core|callbacks|all]   (needs `cargo install cargo-mutants --locked`)
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
export CARGO_INCREMENTAL=1
mkdir -p mutants.out
# TIMEOUT=seconds per mutant's tests (default 20: the unmutated tests take about 1 s).
# FILES=... narrows the core run to some of its files (e.g. FILES="lifecycle.rs retry.rs").
core_files=()
for f in ${FILES:-lifecycle.rs retry.rs session.rs driver.rs signature/*.rs}; do core_files+=(-f "imts-core/src/$f"); done
if [ "$which" = core ] || [ "$which" = all ]; then
    cargo mutants --no-shuffle --timeout "${TIMEOUT:-20}" -o mutants.out/core -p imts-core \
        "${core_files[@]}" -- --lib --test call --test driver --test session --test signature_vectors \
        --test signature_properties --test signature_errors --test json_signing --test requests --test responses || true
fi
if [ "$which" = callbacks ] || [ "$which" = all ]; then
    cargo mutants --no-shuffle --timeout "${TIMEOUT:-20}" -o mutants.out/callbacks -p imts-callbacks \
        -f imts-callbacks/src/verify.rs -f imts-callbacks/src/seen.rs || true
fi
for dir in mutants.out/*/mutants.out; do
    [ -d "$dir" ] || continue
    caught=$(wc -l < "$dir/caught.txt"); missed=$(wc -l < "$dir/missed.txt")
    timeout=$(wc -l < "$dir/timeout.txt"); unviable=$(wc -l < "$dir/unviable.txt")
    echo "$dir: caught $caught, missed $missed, timeout $timeout, unviable $unviable"
done
