"""Per-agent result callbacks: an agent's `callback` target gets its own signals' results,
signed, and nothing about anyone else's."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.signatures import (
    WebhookSecret,
    read_signature_headers,
    signature_headers,
    verify_signature,
)
from webhook.config.settings import Settings

SECRET = WebhookSecret.generate()
CALLBACK_SECRET = WebhookSecret.generate()
SCOUT = "scout-agent-token-4f8e2a6c9b1d"


class Received:
    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers["content-length"]))
            received.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/results", received
    server.shutdown()
    server.server_close()


def settle(received: Received, client: TestClient, count: int) -> None:
    deadline = time.monotonic() + 10  # bounded: the paper plugin fills at once
    while len(received.posts) < count and time.monotonic() < deadline:
        client.get("/health")
        time.sleep(0.05)


def test_an_agent_gets_its_own_results_signed_and_no_one_elses(
    tmp_path: Path, receiver: tuple[str, Received]
) -> None:
    url, received = receiver
    settings = Settings.model_validate({
        "secret": [SECRET], "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0}},
        "notifications": {"scout_results": {"kind": "webhook", "url": url,
                                            "secret": str(CALLBACK_SECRET),
                                            "events": ["filled", "rejected"]}},
        "agents": {"scout": {"token": SCOUT, "scopes": ["submit", "read"],
                             "callback": "scout_results"}},
    })
    with TestClient(create_app(settings)) as client:
        body = b"buy 1 ETHUSDT"
        headers = {**signature_headers(SECRET, body), "content-type": "text/plain"}
        someone_else = client.post("/webhook", content=body, headers=headers).json()
        mine = client.post("/api/agent/signals", headers={"authorization": f"Bearer {SCOUT}"},
                           json={"symbol": "BTCUSDT", "side": "buy", "quantity": 1}).json()
        settle(received, client, 1)
        time.sleep(0.3)  # a notification about the other signal would have come by now
    assert len(received.posts) == 1
    headers_got, body_got = received.posts[0]
    verify_signature([CALLBACK_SECRET], read_signature_headers(headers_got), body_got)
    payload = json.loads(body_got)
    assert payload["type"] == "signal.filled"
    assert payload["data"]["signal_id"] == mine["signal_id"] != someone_else["signal_id"]


def test_a_callback_must_name_a_webhook_notification(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no notification named 'nope' of kind 'webhook'"):
        Settings.model_validate({"agents": {"scout": {"token": SCOUT, "callback": "nope"}}})
