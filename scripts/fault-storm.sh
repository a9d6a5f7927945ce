#!/usr/bin/env bash
# The long fault storm: thousands of seeded life cycles per client (CI runs 300).
# Usage: scripts/fault-storm.sh [CYCLES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
STORM_CYCLES="${1:-3000}" STORM_SEED="${2:-1}" \
    cargo test --release -p imts-conformance --test fault_storm -- --nocapture --test-threads=1 2>&1 |
    grep -E "fault storm|test result|panicked|reproduce"
