#!/usr/bin/env python3
"""Independent check of vectors/pg_sig.json and vectors/envelope.json, written from the contract
(docs/contract.md, "Signature" and "Personal data") without looking at the Rust code. Standard library only, except
the AES part, which runs only when the `cryptography` package is importable."""
import base64, hashlib, hmac, json, os, sys
from decimal import Decimal

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")


def flatten(value, prefix, out):
    if isinstance(value, dict):
        for k, v in value.items():
            if prefix is None and k == "pg_sig":
                continue
            flatten(v, k if prefix is None else f"{prefix}.{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flatten(v, f"{prefix}.{i}", out)
    elif value is None or value == "":
        return
    elif value is True:
        out.append((prefix, "1"))
    elif value is False:
        out.append((prefix, "0"))
    elif isinstance(value, Decimal):
        out.append((prefix, str(value)))
    else:
        out.append((prefix, str(value)))


def canonical(body):
    # parse_float/parse_int keep the exact written digits
    obj = json.loads(body, parse_float=lambda s: Raw(s), parse_int=lambda s: Raw(s)) if body.strip() else {}
    pairs = []
    flatten(obj, None, pairs)
    pairs.sort(key=lambda p: p[0].encode())
    return pairs


class Raw(str):
    pass


def main():
    failures = 0
    sig = json.load(open(os.path.join(ROOT, "pg_sig.json")))
    for case in sig["cases"]:
        pairs = canonical(case["body"])
        message = "".join(v + ";" for _, v in pairs) + case["secret"]
        digest = hmac.new(case["secret"].encode(), message.encode(), hashlib.sha256).hexdigest()
        ok = [list(p) for p in pairs] == case["sorted_pairs"] and message == case["message"] and digest == case["pg_sig"]
        if not ok:
            failures += 1
            print("FAIL pg_sig:", case["name"])
    env = json.load(open(os.path.join(ROOT, "envelope.json")))
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        from cryptography.hazmat.primitives import padding
    except ImportError:
        Cipher = None
    checked = 0
    if Cipher is not None:
        for case in env["cases"]:
            key = bytes.fromhex(case["key_hex"]); iv = bytes.fromhex(case["iv_hex"])
            padder = padding.PKCS7(128).padder()
            pt = padder.update(base64.b64decode(case["plaintext_b64"])) + padder.finalize()
            enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
            ct = enc.update(pt) + enc.finalize()
            if base64.b64encode(iv + ct).decode() != case["envelope"]:
                failures += 1
                print("FAIL envelope:", case["name"])
            checked += 1
    print(f"vectors: {len(sig['cases'])} pg_sig cases, {checked} envelope cases checked")
    print(f"{len(sig['cases']) + checked - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
