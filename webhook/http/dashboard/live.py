"""`GET /api/events`: signals as they arrive and change, as server-sent events.

Each `signal` event carries the signal as `GET /api/signals` lists it; `kill_switch` carries
`{"engaged": ...}`; `lost` says events were dropped because the reader fell behind (the page
then reloads the list). A comment every few seconds keeps proxies from closing the stream and
notices readers that went away. Streams end when the server begins to stop (so that a forgotten
tab does not hold it up), and after a few minutes anyway; the browser reconnects by itself.

A `signal` frame is the signal as it is now, read from the journal, so of the events that piled
up for one signal while the stream was writing, only the newest is sent: under load a signal
costs the stream one read, not one per step of its life.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from webhook.http.admin_api import SignalView, require_admin
from webhook.http.state import ServerState
from webhook.observe.events import SignalEvent

HEARTBEAT_SECONDS = 10.0
STREAM_SECONDS = 300.0
RECONNECT_MILLISECONDS = 1000


def _frame(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def signal_events(request: Request) -> Response:
    services = await require_admin(request)
    return StreamingResponse(
        _stream(services),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _stream(services: ServerState) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STREAM_SECONDS
    with services.events.subscribe() as subscription:
        yield f"retry: {RECONNECT_MILLISECONDS}\n: connected\n\n".encode()
        lost = 0
        while loop.time() < deadline:
            try:
                first = await asyncio.wait_for(subscription.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b": ping\n\n"
                continue
            for event in _newest_per_signal([first, *subscription.pending()]):
                if event.kind == "shutdown":
                    return
                if subscription.lost != lost:
                    lost = subscription.lost
                    yield _frame("lost", {"lost": lost})
                frame = await _render(services, event)
                if frame is not None:
                    yield frame


def _newest_per_signal(events: list[SignalEvent]) -> list[SignalEvent]:
    """`events` in order, less those followed by a newer event of the same signal."""
    newest = {event.signal_id: index for index, event in enumerate(events)
              if event.signal_id is not None}
    return [event for index, event in enumerate(events)
            if event.signal_id is None or newest[event.signal_id] == index]


async def _render(services: ServerState, event: SignalEvent) -> bytes | None:
    if event.kind == "kill_switch":
        return _frame("kill_switch", {"engaged": event.engaged})
    if event.signal_id is None:
        return None
    record = await services.journal.get(event.signal_id)
    if record is None:
        return None
    return _frame("signal", SignalView.of(record, full=False).model_dump(mode="json"))
