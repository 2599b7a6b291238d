"""The signal endpoints: `POST /webhook` (signed) and `POST /webhook/{token}` (source URL).

Cheap checks come first, before a byte of the body is read: who the request claims to be (a
source URL's token, or the signature headers' presence, form and timestamp), the source's own
checks (enabled, IP allowlist, certificate), then the declared type and size. The body is read
within a deadline (408 after it), then the signature is verified on the raw bytes; only then
does the pipeline see the body. `[sources.signed]` configures the signed senders like any
source; the name `signed` is never a source URL's.

The handlers take a `SignalRequest`, read straight from the ASGI scope: `webhook.http.application`
serves both routes with it ahead of Starlette's router, and `as_endpoint` makes a Starlette
endpoint of the same handler for the routes that go through the router (a dry run, an agent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope

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


class SignalRequest:
    """What the signal handlers read of a request: its scope, its `receive`, its headers (the
    first value of each, as Starlette's `Headers.get` gives it), a source URL's token, and
    the source it turned out to come from (for the event). Reading these from the scope spares
    each signal Starlette's request, its header view and its body stream."""

    __slots__ = ("headers", "receive", "scope", "source", "token")

    def __init__(self, scope: Scope, receive: Receive, token: str | None = None) -> None:
        self.scope = scope
        self.receive = receive
        self.token = token
        self.source: str | None = None
        self.headers: Mapping[str, str] = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in reversed(scope["headers"])
        }

    @classmethod
    def of(cls, request: Request) -> SignalRequest:
        return cls(request.scope, request.receive, request.path_params.get("token"))

    def starlette(self) -> Request:
        """The same request as Starlette's, for the checks that are not on every signal's way
        (a source's IP allowlist or certificate, an agent's token)."""
        return Request(self.scope, self.receive)

    @property
    def services(self) -> ServerState:
        services: ServerState = self.scope["app"].state.services
        return services


SignalHandler = Callable[[SignalRequest, ServerState], Awaitable[Response]]


def observed(
    endpoint: str, receive: Callable[[SignalRequest, ServerState], Awaitable[Receipt]]
) -> SignalHandler:
    """Time the answer, count what was refused, and tell the listeners what was decided."""

    async def handle(request: SignalRequest, services: ServerState) -> Response:
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
            source=request.source, dialect=decision.dialect, plugin=decision.plugin,
            reason=decision.reason, error=decision.error,
        ))
        if decision.position_mismatch is not None:
            services.events.publish(SignalEvent(
                kind="position_mismatch", signal_id=decision.signal_id, status=decision.status,
                source=request.source, plugin=decision.plugin,
                reason=decision.position_mismatch,
            ))
        return decision_answer(decision)

    return handle


def as_endpoint(handler: SignalHandler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint of a signal handler."""

    async def endpoint(request: Request) -> Response:
        return await handler(SignalRequest.of(request), ServerState.of(request))

    return endpoint


async def _receive_signed(request: SignalRequest, services: ServerState) -> Receipt:
    return await services.pipeline.receive(await signed_incoming(request, services))


async def signed_incoming(request: SignalRequest, services: ServerState) -> Incoming:
    """A request to `POST /webhook` whose signature is right, as the pipeline takes it."""
    request.source = SIGNED_SOURCE
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


async def _receive_from_source(request: SignalRequest, services: ServerState) -> Receipt:
    settings = services.settings
    token = read_source_token(settings.secret, request.token or "")
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
    request.source = token.source
    body, content_type = await read_body(request, settings)
    incoming = Incoming(token.source, body, content_type)
    return await services.pipeline.receive(incoming)


def _check_sender(
    request: SignalRequest, services: ServerState, name: str, source: SourceSettings
) -> None:
    """The source's own network checks: its IP allowlist and TradingView's client certificate."""
    trusted = services.settings.trusted_proxies
    if source.ip_allowlist:
        address = client_address(request.starlette(), trusted)
        if not is_allowed(address, source.ip_allowlist):
            raise Forbidden(f"address {address or 'unknown'} is not allowed for source {name!r}")
    if source.require_tradingview_certificate and not tradingview_certificate_verified(
        request.starlette(), trusted
    ):
        raise Forbidden(f"source {name!r} requires TradingView's TLS client certificate")


handle_signed = observed("signed", _receive_signed)
handle_from_source = observed("source", _receive_from_source)
receive_signed = as_endpoint(handle_signed)
receive_from_source = as_endpoint(handle_from_source)


class Readable(Protocol):
    """A request whose body can be read: Starlette's, or a `SignalRequest`."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def receive(self) -> Receive: ...


async def read_body(request: Readable, settings: Settings) -> tuple[bytes, str | None]:
    """The body, once its declared type and size are acceptable, read within the deadline."""
    headers = request.headers
    limit = settings.max_body_bytes
    content_type = headers.get("content-type")
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type and media_type not in ACCEPTED_TYPES and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"content type {media_type!r} is not accepted; send application/json or text/plain"
        )
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body larger than {limit} bytes")
    task = asyncio.current_task()
    assert task is not None  # noqa: S101 - called from a request's task
    loop = asyncio.get_running_loop()
    cancelling = task.cancelling()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    # A timer handle rather than `asyncio.timeout`: the same cancellation for a third of its
    # cost per request (no context manager object, no rescheduling).
    timer = loop.call_at(loop.time() + settings.client_read_seconds, expire)
    try:
        return await _read_messages(request.receive, limit), content_type
    except asyncio.CancelledError as exc:
        if expired and task.uncancel() <= cancelling:
            raise RequestTimeout(
                f"the body did not arrive within {settings.client_read_seconds:g} s"
            ) from exc
        raise
    finally:
        timer.cancel()


async def _read_messages(receive: Receive, limit: int) -> bytes:
    """The body's `http.request` messages joined, as Starlette's `Request.stream` reads them;
    `ClientDisconnect` when the client left first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Any = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"body larger than {limit} bytes")
            if not message.get("more_body", False):
                if not chunks:
                    return bytes(chunk)
                chunks.append(chunk)
                return b"".join(chunks)
            chunks.append(chunk)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect()
