"""Signed source URLs for senders that cannot sign (TradingView).

A token names a configured source and its `generation`; it is signed with itsdangerous from the
server's webhook secrets, so it cannot be forged. Raising a source's generation in the
configuration revokes every URL made before without touching other sources; rotating the
secrets keeps old URLs working as long as the old secret stays configured.
"""

from __future__ import annotations

from collections.abc import Sequence

from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, ValidationError

from webhook.auth.signatures import WebhookSecret
from webhook.errors import AuthError

_SALT = "tradehook.source-url"


class SourceToken(BaseModel):
    source: str
    generation: int = 1


def _serializer(secrets: Sequence[WebhookSecret]) -> URLSafeSerializer:
    # itsdangerous signs with the last key and accepts any: our first secret is the current one.
    return URLSafeSerializer([s.key for s in reversed(secrets)], salt=_SALT)


def make_source_token(secrets: Sequence[WebhookSecret], source: str, generation: int = 1) -> str:
    payload = SourceToken(source=source, generation=generation).model_dump()
    token: str = _serializer(secrets).dumps(payload)
    return token


def read_source_token(secrets: Sequence[WebhookSecret], token: str) -> SourceToken:
    """The source a token names; AuthError when it was not made with our secrets."""
    if len(token) > 512:
        raise AuthError("source token is malformed")
    try:
        payload = _serializer(secrets).loads(token)
        return SourceToken.model_validate(payload)
    except (BadSignature, ValidationError) as exc:
        raise AuthError("source token is not valid") from exc
