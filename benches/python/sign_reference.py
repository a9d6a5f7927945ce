#!/usr/bin/env python3
"""Partner-style pg_sig in Python, as integration guides write it: a dict, sorted keys, joined
values, hmac.new per call, hexdigest. Prints nanoseconds per signature (best of 5 batches)."""
import hashlib, hmac, json, sys, time

params = json.loads(sys.argv[1])
secret = sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 200000


def pg_sig(params, secret):
    values = [str(params[k]) for k in sorted(params) if params[k] not in (None, "")]
    message = ";".join(values + [secret])
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


best = float("inf")
for _ in range(5):
    start = time.perf_counter_ns()
    for _ in range(n // 5):
        pg_sig(params, secret)
    best = min(best, (time.perf_counter_ns() - start) / (n // 5))
print(f"{best:.1f}")
