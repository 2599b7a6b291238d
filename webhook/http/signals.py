"""The signal endpoints: `POST /webhook` (signed) and `POST /webhook/{token}` (source URL).

Cheap checks come first, before a byte of the body is read: who the request claims to be (a
source URL's token, or the signature headers' presence, form and timestamp), the source's own
checks (enabled, IP allowlist, certificate), then the declared type and size. The body is read
within a deadline (408 after it), then the signature is verified on the raw bytes; only then
does the pipeline see the body. `[sources.signed]` configures the signed senders like any
source; the name `signed` is never a source URL's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from webhook.auth.client_address import client_address, is_allowed, tradingview_certificate_verified
from webhook.auth.signatures import read_signature_headers, verify_signature
from webhook.auth.source_urls import read_source_token
from webhook.config.settings import SIGNED_SOURCE, Settings, SourceSettings
from webhook.decide.arrival import Incoming, Receipt
from webhook.errors import (
    AuthError,
    BodyTooLarge,
    Forbidden,
    RequestTimeout,
    UnsupportedMediaType,
    WebhookError,
)
from webhook.http.answers import decision_answer, status_for
from webhook.http.state import ServerState
from webhook.observe.events import SignalEvent

ACCEPTED_TYPES = frozenset(
    {"application/json", "text/plain", "application/x-www-form-urlencoded"}
)
"""What TradingView sends, plus curl's default for `-d` (whose body is taken as it is)."""


def observed(
    endpoint: str, receive: Callable[[Request, ServerState], Awaitable[Receipt]]
) -> Callable[[Request], Awaitable[Response]]:
    """Time the answer, count what was refused, and tell the listeners what was decided."""

    async def handle(request: Request) -> Response:
        services = ServerState.of(request)
        started = time.perf_counter()
        try:
            decision = await receive(request, services)
        except WebhookError as exc:
            services.metrics.refused_with(str(status_for(exc))).inc()
            raise
        finally:
            services.metrics.answered(endpoint).observe(time.perf_counter() - started)
        services.events.publish(SignalEvent(
            kind="decided", signal_id=decision.signal_id, status=decision.status,
            source=request.state.source, dialect=decision.dialect, plugin=decision.plugin,
            reason=decision.reason, error=decision.error,
        ))
        if decision.position_mismatch is not None:
            services.events.publish(SignalEvent(
                kind="position_mismatch", signal_id=decision.signal_id, status=decision.status,
                source=request.state.source, plugin=decision.plugin,
                reason=decision.position_mismatch,
            ))
        return decision_answer(decision)

    return handle


async def _receive_signed(request: Request, services: ServerState) -> Receipt:
    return await services.pipeline.receive(await signed_incoming(request, services))


async def signed_incoming(request: Request, services: ServerState) -> Incoming:
    """A request to `POST /webhook` whose signature is right, as the pipeline takes it."""
    request.state.source = SIGNED_SOURCE
    settings = services.settings
    if not settings.secret:
        raise AuthError("no webhook secret is configured")
    signed = read_signature_headers(request.headers)
    source = settings.sources.get(SIGNED_SOURCE)
    if source is not None:
        if not source.enabled:
            raise Forbidden(f"source {SIGNED_SOURCE!r} is disabled")
        _check_sender(request, services, SIGNED_SOURCE, source)
    body, content_type = await read_body(request, settings)
    webhook_id = verify_signature(settings.secret, signed, body)
    return Incoming(SIGNED_SOURCE, body, content_type, webhook_id=webhook_id)


async def _receive_from_source(request: Request, services: ServerState) -> Receipt:
    settings = services.settings
    token = read_source_token(settings.secret, request.path_params["token"])
    if token.source == SIGNED_SOURCE:
        raise Forbidden(f"{SIGNED_SOURCE!r} is reserved for signed requests to POST /webhook")
    source = settings.sources.get(token.source)
    if source is None:
        raise Forbidden(f"source {token.source!r} is not configured")
    if not source.enabled:
        raise Forbidden(f"source {token.source!r} is disabled")
    if token.generation != source.generation:
        raise Forbidden(f"this URL for source {token.source!r} was revoked; make a new one")
    _check_sender(request, services, token.source, source)
    request.state.source = token.source
    body, content_type = await read_body(request, settings)
    incoming = Incoming(token.source, body, content_type)
    return await services.pipeline.receive(incoming)


def _check_sender(
    request: Request, services: ServerState, name: str, source: SourceSettings
) -> None:
    """The source's own network checks: its IP allowlist and TradingView's client certificate."""
    trusted = services.settings.trusted_proxies
    if source.ip_allowlist:
        address = client_address(request, trusted)
        if not is_allowed(address, source.ip_allowlist):
            raise Forbidden(f"address {address or 'unknown'} is not allowed for source {name!r}")
    if source.require_tradingview_certificate and not tradingview_certificate_verified(
        request, trusted
    ):
        raise Forbidden(f"source {name!r} requires TradingView's TLS client certificate")


receive_signed = observed("signed", _receive_signed)
receive_from_source = observed("source", _receive_from_source)


async def read_body(request: Request, settings: Settings) -> tuple[bytes, str | None]:
    """The body, once its declared type and size are acceptable, read within the deadline."""
    limit = settings.max_body_bytes
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
    try:
        async with asyncio.timeout(settings.client_read_seconds):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(f"body larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError as exc:
        raise RequestTimeout(
            f"the body did not arrive within {settings.client_read_seconds:g} s"
        ) from exc
    return b"".join(chunks), content_type
