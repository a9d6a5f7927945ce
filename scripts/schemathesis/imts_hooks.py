"""Schemathesis hooks for the IMTS sandbox: a bearer token for every case and a pg_sig on every
signed request, so that generated cases reach past authentication and the signature into
validation and state (scripts/schemathesis.sh loads this module).

In the stateful phase, positive cases of the life-cycle chain (create person -> create transfer ->
confirm -> payout -> payout confirm) are steered onto values the sandbox's state accepts: a
sealed person where encrypted_data is asked for, a currency pair of its rate table, no foreign
target agent. Everything else is sent as generated, signed over exactly what is sent.

Environment: IMTS_BASE_URL, IMTS_AGENT_ID, IMTS_AGENT_SECRET, IMTS_PARTNER_KEY (64 hex digits).
Written from docs/contract.md ("Signature", "Personal data"), not from the Rust code.
"""
import base64
import hashlib
import hmac
import json
import os
import urllib.request
import uuid

import schemathesis
from schemathesis import GenerationMode

# The flattening rule of the independent vector check (scripts/check_vectors.py): Python writes
# numbers to JSON as str() writes them, so it renders the text sent.
from check_vectors import flatten as _flatten

BASE = os.environ["IMTS_BASE_URL"].rstrip("/")
AGENT_ID = os.environ["IMTS_AGENT_ID"]
SECRET = os.environ["IMTS_AGENT_SECRET"]
PARTNER_KEY = bytes.fromhex(os.environ["IMTS_PARTNER_KEY"])
AUTH_PATH = "/v5/partner/transfer/agent/auth"


def _token_pair():
    request = urllib.request.Request(
        BASE + AUTH_PATH,
        data=json.dumps({"agent_id": AGENT_ID, "agent_secret": SECRET}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@schemathesis.auth()
class ImtsToken:
    """Get token once (the sandbox runs with a day-long access TTL), bearer on every case."""

    def get(self, case, ctx):
        return _token_pair()["access_token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _sign_pairs(pairs):
    pairs = sorted(pairs, key=lambda pair: pair[0].encode())
    message = "".join(value + ";" for _, value in pairs) + SECRET
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign_body(body):
    pairs = []
    _flatten(body, None, pairs)
    return _sign_pairs(pairs)


def sign_query(query):
    # `requests` sends str(value) for each item (repeating the key for a list) and drops None.
    pairs = []
    for key, value in query.items():
        if key == "pg_sig" or value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            text = str(item)
            if text != "":
                pairs.append((key, text))
    return _sign_pairs(pairs)


def seal(clear):
    """encrypted_data: Base64(IV || AES-256-CBC(PKCS#7(JSON))) with the partner key."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(json.dumps(clear).encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(PARTNER_KEY), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(plain) + encryptor.finalize()).decode()


PERSON = {
    "first_name": "Aigerim",
    "last_name": "Schemathesis",
    "birth_date": "1990-05-17",
    "citizenship": "KAZ",
    "document_type": "passport",
    "document_number": "N12345678",
    "document_issued_at": "2020-01-10",
    "phone": "77011234567",
}

# Stateful positive cases: fields set to what the sandbox's state accepts, per operation.
STEERED = {
    "createPerson": lambda body: body.update(encrypted_data=seal(PERSON), phone="77011234567"),
    "createTransfer": lambda body: (
        body.update(
            currency_source="KZT",
            currency_target="UZS",
            amount_source=100.5,
            target_country="UZB",
            destination_type="phone",
            destination_identifier="998901234567",
            transfer_purpose="Family support",
            # A fresh order_id: a generated one repeats, and a reused order_id with another
            # body is refused (409) by design.
            order_id=uuid.uuid4().hex,
        ),
        body.pop("target_agent_id", None),
    ),
    "payout": lambda body: body.update(encrypted_data=seal(PERSON)),
}


def _operation_id(case):
    return case.operation.definition.raw.get("operationId")


def _steer(case):
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return
    if meta.phase.name.value != "stateful" or not isinstance(case.body, dict):
        return
    steer = STEERED.get(_operation_id(case))
    if steer is not None:
        steer(case.body)


@schemathesis.hook
def before_call(ctx, case, kwargs):
    raw = case.operation.definition.raw
    signature = raw.get("x-imts-signature")
    if _operation_id(case) == "refreshToken":
        # A refresh token of its own, so that the call can succeed (each one works once).
        case.headers = case.headers or {}
        case.headers["Authorization"] = "Bearer " + _token_pair()["refresh_token"]
        return
    if signature is None:
        return
    _steer(case)
    if signature["in"] == "body" and isinstance(case.body, dict):
        case.body["pg_sig"] = sign_body(case.body)
    elif signature["in"] == "query":
        query = dict(case.query or {})
        query["pg_sig"] = sign_query(query)
        case.query = query
