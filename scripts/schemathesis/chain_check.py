"""Reads a schemathesis NDJSON report and checks that the stateful phase carried transfers through
the whole life cycle by the document's links: create transfer -> confirm -> payout -> payout
confirm, each answered 2xx at least once as a linked step (a step whose data came from the
previous step's answer). Prints the count per operation; exits 1 when a link of the chain was
never followed to success, so that a change to the links, the hook's steering or the sandbox
that breaks the chain fails CI rather than passing quietly.

Usage: python3 chain_check.py REPORT.ndjson
"""
import collections
import json
import sys

PREFIX = "/v5/partner/transfer/"
CHAIN = ["person/create", "create", "confirm", "payout", "payout/confirm"]


def linked_successes(path):
    counts = collections.Counter()
    with open(path) as report:
        for line in report:
            event = json.loads(line)
            finished = event.get("ScenarioFinished")
            if finished is None or finished.get("phase") != "stateful":
                continue
            recorder = finished["recorder"]
            for case_id, case in recorder["cases"].items():
                response = (recorder["interactions"].get(case_id) or {}).get("response") or {}
                status = response.get("status_code") or 0
                if not 200 <= status < 300:
                    continue
                operation = case["value"]["path"].removeprefix(PREFIX)
                # The first step of the chain is a root step; every later one must be linked.
                if case.get("is_transition_applied") or operation == CHAIN[0]:
                    counts[operation] += 1
    return counts


def main():
    counts = linked_successes(sys.argv[1])
    line = ", ".join(f"{operation} {counts[operation]}" for operation in CHAIN)
    print(f"stateful chain (2xx steps, linked after the first): {line}")
    missing = [operation for operation in CHAIN if counts[operation] == 0]
    if missing:
        print(f"the stateful phase never reached: {', '.join(missing)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
