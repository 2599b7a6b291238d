"""Waiting on signals of an app under a TestClient."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient


def settled(client: TestClient, signal_id: str, admin: dict[str, str]) -> Any:
    """The signal as the admin API shows it, once it is no longer pending (or after 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        record = client.get(f"/api/signals/{signal_id}", headers=admin).json()
        if record["status"] not in ("queued", "executing") or time.monotonic() > deadline:
            return record
        time.sleep(0.02)
