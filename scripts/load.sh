#!/usr/bin/env bash
# Sustained load on loopback from a separate process (wrk), bounded in time:
#   1. the sandbox serving Status (signed GET, bearer token),
#   2. `imts listen` verifying notifications (a signed body, replayed: each delivery is verified,
#      de-duplicated and acknowledged).
# Reports requests/s, p99 latency, errors and peak memory (VmHWM) of each server, and each one's
# rate next to a bare hyper server (`bare_hyper`: reads the body, answers {"status":"ok"}) under
# the same wrk load and the same request bytes, run just before it:
#   RATIOS sandbox_vs_bare_hyper=... listen_vs_bare_hyper=...   (rate ratios: 1 is the bare rate)
# and next to the same anchor with the servers' request bounds (`bare_hyper --bounded`: header and
# body timeouts): sandbox_vs_bounded_hyper=... listen_vs_bounded_hyper=...
# Usage: scripts/load.sh [SECONDS] [CONNECTIONS]   (CI runs a short form: 3 s)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
connections="${2:-32}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
# PROFILE=debug reuses the test build (CI's short form); the figures to report come from release.
profile="${PROFILE:-release}"
if [ "$profile" = release ]; then
    cargo build -q --release -p imts-cli && cargo build -q --release -p imts-benches --bin bare_hyper
else
    cargo build -q -p imts-cli && cargo build -q -p imts-benches --bin bare_hyper
fi
imts="target/$profile/imts"
work="$(mktemp -d)"
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
pids=()
trap cleanup EXIT

key=$(printf 'ab%.0s' $(seq 32))
secret="load-secret"
"$imts" sandbox --listen 127.0.0.1:0 --access-ttl 86400 --agent "load-agent:$secret:$key" >"$work/sandbox.out" 2>&1 &
pids+=($!); sandbox_pid=$!
for _ in $(seq 100); do grep -q listening "$work/sandbox.out" && break; sleep 0.05; done
base=$(head -1 "$work/sandbox.out" | awk '{print $NF}')

token=$(curl -s -X POST "$base/v5/partner/transfer/agent/auth" -H 'content-type: application/json' \
    -d "{\"agent_id\":\"load-agent\",\"agent_secret\":\"$secret\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# A real transfer to ask about: the demo's first one (it ends `success`).
order=$(IMTS_AGENT_ID=load-agent IMTS_AGENT_SECRET=$secret IMTS_PARTNER_KEY=$key \
    "$imts" demo --base-url "$base" --transport blocking | grep -o 'order DEMO-[^ ]*' | head -1 | cut -d' ' -f2)
sig=$(IMTS_AGENT_SECRET=$secret "$imts" sign "order_id=$order" | tail -1)
url="$base/v5/partner/transfer/status?order_id=$order&pg_sig=$sig"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url")
[ "$code" = 200 ] || { echo "unexpected status $code from the sandbox" >&2; exit 1; }

report() { # name pid wrk-output
    local rps p99 errors non2xx hwm
    rps=$(awk '/Requests\/sec/ {print $2}' "$3")
    p99=$(awk '/ 99%/ {print $2}' "$3")
    errors=$(awk '/Socket errors/ {print $0}' "$3")
    non2xx=$(awk '/Non-2xx/ {print $NF}' "$3")
    hwm=$(awk '/VmHWM/ {print $2" "$3}' "/proc/$2/status")
    echo "load $1: ${rps} req/s, p99 ${p99}, peak memory ${hwm}, ${connections} connections, ${seconds}s${errors:+, $errors}${non2xx:+, non-2xx $non2xx}"
}

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.3f}')" "$1" "$2"; }
"target/$profile/bare_hyper" >"$work/bare.out" &
pids+=($!); bare_pid=$!
for _ in $(seq 100); do grep -q listening "$work/bare.out" && break; sleep 0.05; done
bare=$(head -1 "$work/bare.out" | awk '{print $NF}')
bare_url="$bare${url#"$base"}"

# The same anchor with the servers' request bounds (header and body timeouts): what of the gap
# is only the bounds.
"target/$profile/bare_hyper" --bounded >"$work/bounded.out" &
pids+=($!); bounded_pid=$!
for _ in $(seq 100); do grep -q listening "$work/bounded.out" && break; sleep 0.05; done
bounded=$(head -1 "$work/bounded.out" | awk '{print $NF}')
bounded_url="$bounded${url#"$base"}"

wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$bare_url" >"$work/bare-get.txt"
report "bare hyper, the same GET" "$bare_pid" "$work/bare-get.txt"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$bounded_url" >"$work/bounded-get.txt"
report "bare hyper bounded, the same GET" "$bounded_pid" "$work/bounded-get.txt"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url" >"$work/status.txt"
report "sandbox Status" "$sandbox_pid" "$work/status.txt"
sandbox_ratio=$(ratio "$(rps "$work/status.txt")" "$(rps "$work/bare-get.txt")")
sandbox_bounded_ratio=$(ratio "$(rps "$work/status.txt")" "$(rps "$work/bounded-get.txt")")

IMTS_AGENT_SECRET=$secret "$imts" listen --listen 127.0.0.1:0 >/dev/null 2>"$work/listen.err" &
pids+=($!); listen_pid=$!
for _ in $(seq 100); do grep -q accepting "$work/listen.err" && break; sleep 0.05; done
hook=$(grep -o 'http://[^ ]*' "$work/listen.err" | head -1)
fields='"type":"status_update","notification_id":"load-1","transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","order_id":"LOAD-1","status":"process","previous_status":"new","updated_at":"2026-11-22T10:00:00.000000Z"'
nsig=$(echo "{$fields}" | IMTS_AGENT_SECRET=$secret "$imts" sign --json - | tail -1)
body="{$fields,\"pg_sig\":\"$nsig\"}"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' -d "$body" "$hook")
[ "$code" = 200 ] || { echo "unexpected status $code from imts listen" >&2; exit 1; }
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$bare" >"$work/bare-post.txt"
report "bare hyper, the same POST" "$bare_pid" "$work/bare-post.txt"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$bounded" >"$work/bounded-post.txt"
report "bare hyper bounded, the same POST" "$bounded_pid" "$work/bounded-post.txt"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$hook" >"$work/listen.txt"
report "imts listen (verify + de-duplicate + ack)" "$listen_pid" "$work/listen.txt"
listen_ratio=$(ratio "$(rps "$work/listen.txt")" "$(rps "$work/bare-post.txt")")
listen_bounded_ratio=$(ratio "$(rps "$work/listen.txt")" "$(rps "$work/bounded-post.txt")")
echo "RATIOS sandbox_vs_bare_hyper=$sandbox_ratio listen_vs_bare_hyper=$listen_ratio sandbox_vs_bounded_hyper=$sandbox_bounded_ratio listen_vs_bounded_hyper=$listen_bounded_ratio"
if grep -q "Non-2xx" "$work"/*.txt; then echo "non-2xx answers under load" >&2; exit 1; fi
if grep -q "Socket errors" "$work"/*.txt; then echo "socket errors under load" >&2; exit 1; fi
