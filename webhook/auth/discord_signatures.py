"""Discord's signatures on the interactions it posts to an application's Interactions Endpoint.

Discord signs every request with the application's Ed25519 key: `X-Signature-Ed25519` is the
hex signature of the `X-Signature-Timestamp` header's bytes followed by the raw body, checked
with the application's public key (hex, on the Developer Portal's General Information page);
a request whose signature fails is answered 401, and Discord sends such requests now and then
to check that it is ("Security and Authorization", https://discord.com/developers/docs/
interactions/receiving-and-responding#security-and-authorization). The docs set no age limit
on the timestamp; tradehook refuses one more than `TOLERANCE_SECONDS` away from its clock, as
it does for Standard Webhooks, so that a recorded request cannot be replayed later.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from webhook.auth.signatures import TOLERANCE_SECONDS
from webhook.errors import AuthError

SIGNATURE_HEADER = "x-signature-ed25519"
TIMESTAMP_HEADER = "x-signature-timestamp"
MAX_HEADER = 200


def public_key_problem(text: str) -> str | None:
    """Why `text` is not an Ed25519 public key in hex (Discord's form), or None."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        return "must be the application's public key: 64 hexadecimal characters"
    return None


def verify_discord_signature(
    public_key: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> None:
    """Raise `AuthError` unless Discord signed `body` with the key whose public half is
    `public_key` (hex), at a time within `TOLERANCE_SECONDS` of `now`."""
    signature = headers.get(SIGNATURE_HEADER, "")
    stamp = headers.get(TIMESTAMP_HEADER, "")
    if not signature or not stamp:
        raise AuthError("missing X-Signature-Ed25519 or X-Signature-Timestamp")
    if len(signature) > MAX_HEADER or len(stamp) > MAX_HEADER or not stamp.isdigit():
        raise AuthError("malformed Discord signature headers")
    moment = time.time() if now is None else now
    if abs(int(stamp) - moment) > TOLERANCE_SECONDS:
        raise AuthError("X-Signature-Timestamp is too far from now")
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
        key.verify(bytes.fromhex(signature), stamp.encode() + body)
    except (ValueError, InvalidSignature) as exc:
        raise AuthError("the Discord signature does not match") from exc
