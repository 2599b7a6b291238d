"""Run the app under uvicorn, as `tradehook serve` does."""

from __future__ import annotations

import asyncio
import gc
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from webhook.config.settings import Settings
from webhook.journal.event_loop import uvicorn_loop
from webhook.observe.events import SignalEvent

GRACEFUL_SHUTDOWN_SECONDS = 5
GC_THRESHOLDS = (100_000, 50, 1000)
"""Allocations before a young collection, and how many of those before older ones."""
"""How long a stop waits for requests still open before it cancels them."""


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


def serve(app: Starlette, settings: Settings) -> None:
    # No access log: source URLs carry their token in the path. Our logging, not uvicorn's
    # (log_config=None), so its lines are JSON and redacted too. X-Forwarded-For is read by
    # webhook.auth.client_address from configured trusted proxies only, never by uvicorn.
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, access_log=False, log_config=None,
        log_level=settings.log_level, proxy_headers=False, server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        loop=uvicorn_loop(settings.journal),  # psycopg refuses Windows' Proactor loop
    )
    # Collector pauses were the answer's tail latency under a backlog (make bench, row c):
    # objects from start-up stay out of the collector's walks, and young objects are
    # collected in larger, rarer batches. Reference cycles are still collected.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    _Server(config, app).run()
