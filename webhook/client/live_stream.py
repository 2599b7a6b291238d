"""Following a running server's signals: `GET /api/events` (server-sent events) read as lines.

The server ends a stream after a few minutes and when it stops; the follower reconnects until
its own time is up or it has shown `count` signal events, and Ctrl+C stops it at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

import httpx

READ_TIMEOUT = 30.0
"""Seconds without a byte before the stream counts as dead (the server pings every 10)."""
RECONNECT_PAUSE = 1.0


class FollowError(Exception):
    """The server could not be followed: unreachable, or it refused the token."""


@dataclass(frozen=True)
class ServerEvent:
    event: str
    data: str


def server_events(lines: Iterator[str]) -> Iterator[ServerEvent]:
    """Events from a text/event-stream (comments and `retry:` skipped)."""
    event, data = "message", list[str]()
    for line in lines:
        if not line:
            if data:
                yield ServerEvent(event, "\n".join(data))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


def follow_signals(
    base_url: str, token: str, out: TextIO, *, seconds: float, count: int | None = None
) -> int:
    """Print signal events as they come, for at most `seconds`; return how many were shown."""
    deadline = time.monotonic() + seconds
    shown = 0
    url = base_url.rstrip("/") + "/api/events"
    headers = {"authorization": f"Bearer {token}", "accept": "text/event-stream"}
    while time.monotonic() < deadline and (count is None or shown < count):
        left = max(deadline - time.monotonic(), 0.1)
        timeout = httpx.Timeout(10.0, read=min(READ_TIMEOUT, left))
        try:
            with httpx.stream("GET", url, headers=headers, timeout=timeout) as response:
                if response.status_code != 200:
                    raise FollowError(f"{url} answered {response.status_code}: "
                                      f"{response.read().decode(errors='replace')[:200]}")
                for event in server_events(response.iter_lines()):
                    shown += _show(event, out)
                    if time.monotonic() >= deadline or (count is not None and shown >= count):
                        return shown
        except httpx.ReadTimeout:
            continue
        except httpx.TransportError as exc:
            if shown == 0:
                raise FollowError(f"cannot reach {url}: {exc}") from exc
        time.sleep(min(RECONNECT_PAUSE, max(deadline - time.monotonic(), 0)))
    return shown


def _show(event: ServerEvent, out: TextIO) -> int:
    try:
        data: Any = json.loads(event.data)
    except ValueError:
        return 0
    if event.event == "kill_switch" and isinstance(data, dict):
        state = "ENGAGED" if data.get("engaged") else "released"
        out.write(f"{_clock(time.time())}  kill switch {state}\n")
    elif event.event == "lost":
        out.write(f"{_clock(time.time())}  (fell behind: some events were dropped)\n")
    elif event.event == "signal" and isinstance(data, dict):
        out.write("  ".join(_signal_cells(data)).rstrip() + "\n")
        out.flush()
        return 1
    out.flush()
    return 0


def _signal_cells(signal: dict[str, Any]) -> list[str]:
    order = signal.get("order") or {}
    what = " ".join(str(order[k]) for k in ("action", "side", "quantity", "symbol")
                    if order.get(k) not in (None, ""))
    detail = signal.get("error") or signal.get("reason") or ""
    updated = signal.get("updated_at")
    when = _clock(updated) if isinstance(updated, int | float) else ""
    return [when, str(signal.get("id", "")), str(signal.get("source", "")),
            str(signal.get("status", "")), what, str(signal.get("plugin") or ""),
            str(detail)[:60]]


def _clock(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S")
