"""The signal endpoints: `POST /webhook` (signed) and `POST /webhook/{token}` (source URL).

Size and content type are checked first, then who sent the request, on the raw bytes and
before any parsing; only then does the pipeline see the body.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from webhook.answers import decision_answer
from webhook.auth import verify_signature
from webhook.errors import AuthError, BodyTooLarge, Forbidden, UnsupportedMediaType
from webhook.pipeline import SIGNED_SOURCE, Incoming
from webhook.services import Services
from webhook.source_tokens import read_source_token

ACCEPTED_TYPES = frozenset(
    {"application/json", "text/plain", "application/x-www-form-urlencoded"}
)
"""What TradingView sends, plus curl's default for `-d` (whose body is taken as it is)."""


async def receive_signed(request: Request) -> Response:
    services = Services.of(request)
    body, content_type = await _read(request, services.settings.max_body_bytes)
    if not services.settings.secret:
        raise AuthError("no webhook secret is configured")
    webhook_id = verify_signature(services.settings.secret, request.headers, body)
    incoming = Incoming(SIGNED_SOURCE, body, content_type, webhook_id=webhook_id)
    return decision_answer(await services.pipeline.receive(incoming))


async def receive_from_source(request: Request) -> Response:
    services = Services.of(request)
    body, content_type = await _read(request, services.settings.max_body_bytes)
    token = read_source_token(services.settings.secret, request.path_params["token"])
    source = services.settings.sources.get(token.source)
    if source is None:
        raise Forbidden(f"source {token.source!r} is not configured")
    if not source.enabled:
        raise Forbidden(f"source {token.source!r} is disabled")
    if token.generation != source.generation:
        raise Forbidden(f"this URL for source {token.source!r} was revoked; make a new one")
    incoming = Incoming(token.source, body, content_type)
    return decision_answer(await services.pipeline.receive(incoming))


async def _read(request: Request, limit: int) -> tuple[bytes, str | None]:
    content_type = request.headers.get("content-type")
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type and media_type not in ACCEPTED_TYPES and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"content type {media_type!r} is not accepted; send application/json or text/plain"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks), content_type
