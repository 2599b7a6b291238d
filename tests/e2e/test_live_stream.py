"""`GET /api/events` on the real server: signals as server-sent events, and a stop that an
open stream does not hold up."""

from __future__ import annotations

import json
import queue
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import RunningServer, start_server

pytestmark = pytest.mark.e2e


def read_events(server: RunningServer, into: queue.Queue[tuple[str, dict[str, object]]]) -> None:
    headers = {"authorization": f"Bearer {server.admin_token}"}
    with httpx.stream("GET", f"{server.url}/api/events", headers=headers, timeout=30) as stream:
        event = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                into.put((event, json.loads(line.removeprefix("data: "))))
    into.put(("closed", {}))


def test_stream_tells_each_change_and_ends_when_the_server_stops(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        assert httpx.get(f"{server.url}/api/events").status_code == 401
        events: queue.Queue[tuple[str, dict[str, object]]] = queue.Queue()
        reader = threading.Thread(target=read_events, args=(server, events), daemon=True)
        reader.start()
        time.sleep(0.3)  # let the stream subscribe
        signal_id = server.post_signed("buy 1 BTCUSDT").json()["signal_id"]
        seen = []
        while "filled" not in seen:
            kind, data = events.get(timeout=10)
            assert kind == "signal" and data["id"] == signal_id
            seen.append(data["status"])
        assert seen[0] in ("queued", "executing")
        started = time.monotonic()
        server.stop()
        assert events.get(timeout=5) == ("closed", {})
        assert time.monotonic() - started < 3  # not uvicorn's 5 s grace for open requests
        assert "timeout graceful shutdown exceeded" not in server.log
    finally:
        server.kill()
