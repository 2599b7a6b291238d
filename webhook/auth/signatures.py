"""Standard Webhooks signatures: verify incoming requests, sign outgoing ones.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{raw body}"``; the signature header
holds space-separated ``v1,<base64 HMAC-SHA256>`` entries, any of which may match any configured
secret (so secrets can rotate). Secrets are written ``whsec_<base64 key>``. Every malformed or
non-matching input raises the one `AuthError`; comparisons are constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webhook.auth.credentials import MIN_SECRET_KEY_BYTES
from webhook.errors import AuthError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
TOLERANCE_SECONDS = 300
MAX_ID_LENGTH = 128
MAX_SIGNATURES = 16
MAX_SIGNATURE_HEADER = 2048
WEBHOOK_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID_LENGTH}}}")
"""No `.`: the id is the first part of the signed content, so a dot in it could move bytes
between the id and the body (`x` + `123.buy` would verify as `x.123` + `buy`)."""


@dataclass(frozen=True, repr=False)
class WebhookSecret:
    """An HMAC key; its repr never shows the key."""

    key: bytes

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        """Read ``whsec_<base64>``; raises ValueError with a message fit for a config error."""
        encoded = text.strip().removeprefix(SECRET_PREFIX)
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a secret must be 'whsec_' followed by base64") from exc
        if len(key) < MIN_SECRET_KEY_BYTES:
            raise ValueError(
                f"a secret must hold at least {MIN_SECRET_KEY_BYTES} bytes of key "
                f"(this one has {len(key)}); make one with `tradehook serve` on a first run or: "
                "python3 -c \"import base64, secrets; "
                "print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\""
            )
        return cls(key)

    @classmethod
    def generate(cls) -> WebhookSecret:
        return cls(secrets.token_bytes(32))

    def __str__(self) -> str:
        return SECRET_PREFIX + base64.b64encode(self.key).decode()

    def __repr__(self) -> str:
        return "WebhookSecret(***)"


def sign(secret: WebhookSecret, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    secret: WebhookSecret, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers that make a request verifiable."""
    msg_id = msg_id or "msg_" + secrets.token_urlsafe(16)
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


@dataclass(frozen=True)
class SignatureHeaders:
    """The three headers of a signed request, checked for presence, form and age (no body
    needed): what lets a request be refused before a byte of its body is read."""

    msg_id: str
    timestamp: int
    candidates: tuple[bytes, ...]


def read_signature_headers(
    headers: Mapping[str, str], *, now: float | None = None
) -> SignatureHeaders:
    """The headers' values; `AuthError` naming the header when one is missing or malformed."""
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if WEBHOOK_ID.fullmatch(msg_id) is None:
        raise AuthError(
            f"webhook-id must be 1 to {MAX_ID_LENGTH} characters of A-Z, a-z, 0-9, _ and -"
        )
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise AuthError("webhook-timestamp must be unix seconds")
    timestamp = int(stamp)
    now = time.time() if now is None else now
    if timestamp < now - TOLERANCE_SECONDS:
        raise AuthError("webhook-timestamp is too old")
    if timestamp > now + TOLERANCE_SECONDS:
        raise AuthError("webhook-timestamp is in the future")
    if len(signatures) > MAX_SIGNATURE_HEADER:
        raise AuthError("webhook-signature is too long")
    offered = [entry.partition(",") for entry in signatures.split()[:MAX_SIGNATURES]]
    candidates = tuple(sig.encode() for version, _, sig in offered if version == "v1" and sig)
    if not candidates:
        raise AuthError("webhook-signature holds no 'v1,<base64>' entry")
    return SignatureHeaders(msg_id, timestamp, candidates)


def verify_signature(
    secrets_: Sequence[WebhookSecret],
    headers: Mapping[str, str] | SignatureHeaders,
    body: bytes,
    *,
    now: float | None = None,
) -> str:
    """Check a request's signature over its raw body; return its `webhook-id`."""
    signed = headers if isinstance(headers, SignatureHeaders) else read_signature_headers(
        headers, now=now
    )
    for secret in secrets_:
        expected = sign(secret, signed.msg_id, signed.timestamp, body).partition(",")[2].encode()
        # Check every candidate, so timing does not tell which one matched.
        matched = [hmac.compare_digest(expected, candidate) for candidate in signed.candidates]
        if any(matched):
            return signed.msg_id
    raise AuthError("no valid signature")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise AuthError(f"missing header {name}")
    if not value.isascii() or not value.isprintable():
        raise AuthError(f"{name} is malformed")
    return value
