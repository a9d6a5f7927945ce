#!/usr/bin/env bash
# Schemathesis against the sandbox, driven by openapi/imts.yaml: every operation, both positive
# and negative data, then the stateful phase through the document's links (create -> confirm ->
# payout -> payout confirm). scripts/schemathesis/imts_hooks.py gets a token and signs every case;
# scripts/schemathesis/schemathesis.toml keeps the stateful walk on the life cycle, and
# chain_check.py fails the run when that walk never got a transfer to payout confirm.
# Usage: scripts/schemathesis.sh [MAX_EXAMPLES] [SEED]
#   CI runs the short form (scripts/schemathesis.sh 25: about a minute); the long run is
#   scripts/schemathesis.sh 500. Needs `pip install schemathesis==4.32.5 cryptography`.
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-500}"
seed="${2:-20261203}"
command -v schemathesis >/dev/null || { echo "schemathesis is not installed (pip install schemathesis==4.32.5)" >&2; exit 2; }
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then cargo build -q --release -p imts-cli; else cargo build -q -p imts-cli; fi
imts="target/$profile/imts"
work="$(mktemp -d)"
cleanup() { [ -n "${sandbox_pid:-}" ] && kill "$sandbox_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

key=$(printf 'cd%.0s' $(seq 32))
secret="schemathesis-secret"
agent="schemathesis-agent"
"$imts" sandbox --listen 127.0.0.1:0 --access-ttl 86400 --seed "$seed" \
    --agent "$agent:$secret:$key" >"$work/sandbox.out" 2>&1 &
sandbox_pid=$!
for _ in $(seq 200); do grep -q listening "$work/sandbox.out" && break; sleep 0.05; done
base=$(head -1 "$work/sandbox.out" | awk '{print $NF}')

echo "schemathesis: $examples examples per operation, seed $seed, against $base"
status=0
IMTS_BASE_URL="$base" IMTS_AGENT_ID="$agent" IMTS_AGENT_SECRET="$secret" IMTS_PARTNER_KEY="$key" \
PYTHONPATH="scripts/schemathesis:scripts${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=imts_hooks \
    schemathesis --config-file scripts/schemathesis/schemathesis.toml run openapi/imts.yaml --url "$base" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
    --phases "${PHASES:-examples,coverage,fuzzing,stateful}" --mode all \
    --max-examples "$examples" --seed "$seed" --workers 2 --no-color \
    --generation-database none --request-timeout 10 \
    --report ndjson --report-dir "$work/report" || status=$?
# The stateful phase must have carried a transfer through the chain by links.
case "${PHASES:-stateful}" in
    *stateful*) python3 scripts/schemathesis/chain_check.py "$work"/report/*.ndjson || status=1 ;;
esac
# The sandbox must have survived every case.
kill -0 "$sandbox_pid" 2>/dev/null || { echo "the sandbox died during the run" >&2; status=1; }
exit "$status"
