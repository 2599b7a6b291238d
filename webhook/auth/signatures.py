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
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from webhook.errors import AuthError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
TOLERANCE_SECONDS = 300
MAX_ID_LENGTH = 256
MAX_SIGNATURES = 16


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
        if len(key) < 16:
            raise ValueError("a secret must hold at least 16 bytes of key")
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


def verify_signature(
    secrets_: Sequence[WebhookSecret],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
) -> str:
    """Check a request's signature over its raw body; return its `webhook-id`."""
    msg_id = _header(headers, "webhook-id")
    stamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if len(msg_id) > MAX_ID_LENGTH or not msg_id.isprintable():
        raise AuthError("webhook-id is malformed")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise AuthError("webhook-timestamp must be unix seconds")
    timestamp = int(stamp)
    now = time.time() if now is None else now
    if timestamp < now - TOLERANCE_SECONDS:
        raise AuthError("webhook-timestamp is too old")
    if timestamp > now + TOLERANCE_SECONDS:
        raise AuthError("webhook-timestamp is in the future")

    offered = [entry.partition(",") for entry in signatures.split()[:MAX_SIGNATURES]]
    candidates = [sig.encode() for version, _, sig in offered if version == "v1" and sig]
    for secret in secrets_:
        expected = sign(secret, msg_id, timestamp, body).partition(",")[2].encode()
        # Check every candidate, so timing does not tell which one matched.
        matched = [hmac.compare_digest(expected, candidate) for candidate in candidates]
        if any(matched):
            return msg_id
    raise AuthError("no valid signature")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise AuthError(f"missing header {name}")
    return value
