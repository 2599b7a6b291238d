"""Run the app under uvicorn, as `tradehook serve` does.

What a slow or hostile client can hold is bounded here: connections (and requests in progress)
beyond `max_connections` are answered 503; a request's head must arrive within
`client_read_seconds` of the connection opening (or of the previous answer), else the connection
is closed; an idle kept-alive connection lasts `keep_alive_seconds`; a head may not exceed
`MAX_HEAD_BYTES`. The body's own deadline and size are the signal routes' (webhook.http.signals).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from webhook.config.settings import Settings
from webhook.journal.event_loop import uvicorn_loop
from webhook.observe.events import SignalEvent

GRACEFUL_SHUTDOWN_SECONDS = 5
"""How long a stop waits for requests still open before it cancels them."""
GC_THRESHOLDS = (100_000, 50, 1000)
"""Allocations before a young collection, and how many of those before older ones."""
MAX_HEAD_BYTES = 16 * 1024
"""The request line and headers together (h11's default, which this limit kept when the
server spoke h11)."""
MALFORMED = "Invalid HTTP request received."
"""uvicorn's words for a request it cannot parse (and its answer's body)."""


class HeadTooLarge(Exception):
    """A request's line and headers hold more than `MAX_HEAD_BYTES`."""


class _BoundedHead(HttpToolsProtocol):
    """uvicorn's httptools protocol (a C parser: h11's pure Python cost about 70 us more CPU per
    request), which also closes a connection whose request head does not arrive in time, and
    answers 400 to a head larger than `MAX_HEAD_BYTES`: uvicorn itself waits for a slow head
    (slowloris) forever, and httptools would buffer a head of any size."""

    head_seconds = 10.0
    _head_timer: asyncio.TimerHandle | None = None
    _in_head = True
    """From a request's first byte (or the connection's start) until its head has arrived."""
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # A head still incomplete is counted per read: what it holds in memory passes the
        # limit by less than one read before it is refused. A whole head is measured below.
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES \
                and not self.transport.is_closing():
            self.logger.warning(MALFORMED)
            self.send_400_response(MALFORMED)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm()  # the head is in: the body has its own deadline
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > MAX_HEAD_BYTES:
            # Raised into the parser, which stops; uvicorn answers it as any malformed request.
            raise HeadTooLarge(f"request head of {size} bytes")
        super().on_headers_complete()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_seconds, self._head_too_slow)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


class _QuietMalformedRequests(logging.Filter):
    """uvicorn warns once per malformed request: a hostile client could fill the log with them.
    They become debug lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.getMessage().startswith(MALFORMED):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


class _Server(uvicorn.Server):
    """uvicorn's server, which also ends the dashboards' live streams when told to stop:
    uvicorn waits for open responses before it stops, and a live stream would never end."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        services = getattr(self._app.state, "services", None)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if services is not None:
            loop.call_soon_threadsafe(services.events.publish, SignalEvent(kind="shutdown"))


def server_config(app: Starlette, settings: Settings) -> uvicorn.Config:
    # No access log: source URLs carry their token in the path. Our logging, not uvicorn's
    # (log_config=None), so its lines are JSON and redacted too. X-Forwarded-For is read by
    # webhook.auth.client_address from configured trusted proxies only, never by uvicorn.
    protocol: Any = type("BoundedHead", (_BoundedHead,),
                         {"head_seconds": settings.client_read_seconds})
    return uvicorn.Config(
        app, host=settings.host, port=settings.port, access_log=False, log_config=None,
        log_level=settings.log_level, proxy_headers=False, server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, http=protocol,
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=settings.keep_alive_seconds,
        loop=uvicorn_loop(settings.journal),  # psycopg refuses Windows' Proactor loop
    )


def serve(app: Starlette, settings: Settings) -> None:
    config = server_config(app, settings)
    logging.getLogger("uvicorn.error").addFilter(_QuietMalformedRequests())
    tune_collector()
    _Server(config, app).run()


def tune_collector() -> None:
    """Collector pauses were the answer's tail latency under a backlog (make bench, row c):
    objects from start-up stay out of the collector's walks, and young objects are collected
    in larger, rarer batches. Reference cycles are still collected."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
