#!/usr/bin/env bash
# Kill-and-resume harness: CYCLES life cycles of `imts demo --journal` against a faulty sandbox,
# each killed with SIGKILL at a seeded point, then `imts journal resume`. Prints
#   CRASH cycles=N kills=K duplicates=D lost=L unresolved=U needs_person=P
# and exits non-zero unless D=L=U=0.
#   scripts/crash-test.sh 500 7 [--journal sqlite|postgres]
# (postgres: initdb and pg_ctl on PATH or in /usr/lib/postgresql/N/bin; run as root, the cluster
# runs as the postgres user)
set -euo pipefail
cd "$(dirname "$0")/.."
cycles="${1:-50}"
seed="${2:-20261201}"
backend=sqlite
if [[ "${3:-}" == "--journal" ]]; then backend="${4:-sqlite}"; fi
case "$backend" in
    sqlite|postgres) ;;
    *) echo "crash-test: --journal sqlite or postgres (not $backend)" >&2; exit 2 ;;
esac
IMTS_CRASH_JOURNAL="$backend" IMTS_CRASH_CYCLES="$cycles" IMTS_CRASH_SEED="$seed" \
    cargo test -q --release -p imts-cli --test journal_crash -- --nocapture 2>&1 | grep -E '^CRASH|panicked|seed'
