"""The signal routes served ahead of Starlette's router (`webhook.http.application`): nothing of
Starlette's stack on their way, and the same answers as through the router, byte for byte.

`POST /webhook?dry_run=false` still goes through the router to the same handler, so each
answer of the bare route is compared with that one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings
from webhook.journal import SqliteJournal

SECRET = WebhookSecret.generate()
BODY = b'{"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01}'
THROUGH_ROUTER = "/webhook?dry_run=false"
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings.model_validate({
        "secret": [str(SECRET)], "max_body_bytes": 1024, "sources": {"tradingview": {}},
        "plugins": {"mock": {"type": "mock", "delay_ms": 0}},
    })
    app = create_app(settings, journal=SqliteJournal(tmp_path / "j.db"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def signed(body: bytes = BODY, **extra: str) -> dict[str, str]:
    return {**signature_headers(SECRET, body), "content-type": "application/json", **extra}


def answer(client: TestClient, path: str, body: bytes, headers: dict[str, str]) -> Answer:
    got = client.post(path, content=body, headers=headers)
    return got.status_code, list(got.headers.raw), got.content


def call(client: TestClient, path: str, query: bytes, headers: dict[str, str],
         messages: list[dict[str, Any]]) -> Answer:
    """The app called as uvicorn calls it, with the body in `messages`."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()], "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    assert client.portal is not None
    client.portal.call(client.app, scope, receive, send)
    start, body = sent[0], sent[1]
    return start["status"], list(start["headers"]), body["body"]


def test_signal_routes_do_not_go_through_starlettes_stack(client: TestClient) -> None:
    async def teapot(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client.app.middleware_stack = teapot  # type: ignore[attr-defined]
    token = make_source_token([SECRET], "tradingview")
    assert client.post("/webhook", content=BODY, headers=signed()).status_code == 202
    assert client.post(f"/webhook/{token}", content=b"buy 1 BTCUSDT").status_code == 202
    assert client.post(THROUGH_ROUTER, content=BODY, headers=signed()).status_code == 418
    assert client.get("/webhook").status_code == 418
    assert client.get("/health").status_code == 418


@pytest.mark.parametrize(("body", "headers"), [
    (BODY, lambda: {"content-type": "application/json"}),
    (BODY, lambda: signed(**{"webhook-signature": "v1,AAAA"})),
    (BODY, lambda: signed(**{"content-type": "image/png"})),
    (b"x" * 2000, lambda: signed(b"x" * 2000)),
    (b"{", lambda: signed(b"{")),
], ids=["unsigned", "wrong signature", "media type", "too large", "unreadable"])
def test_refusals_are_answered_as_through_the_router(
    client: TestClient, body: bytes, headers: Callable[[], dict[str, str]]
) -> None:
    bare = answer(client, "/webhook", body, headers())
    routed = answer(client, THROUGH_ROUTER, body, headers())
    if bare[0] == 400:  # stored as invalid: its own signal id; the rest is the same
        assert b'"status":"invalid"' in bare[2] and b'"status":"invalid"' in routed[2]
        assert bare[:2] == routed[:2]
    else:
        assert bare == routed
        assert bare[0] in (401, 413, 415)


def test_a_body_in_several_messages_is_read_whole(client: TestClient) -> None:
    parts = [BODY[:10], BODY[10:30], BODY[30:]]
    messages = [{"type": "http.request", "body": part, "more_body": True} for part in parts]
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    status, _, body = call(client, "/webhook", b"", signed(), messages)
    assert status == 202, body


def test_a_body_over_the_limit_without_a_length_is_413(client: TestClient) -> None:
    def chunks() -> list[dict[str, Any]]:
        return [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 2
    bare = call(client, "/webhook", b"", signed(), chunks())
    assert bare == call(client, "/webhook", b"dry_run=false", signed(), chunks())
    assert bare[0] == 413


def test_a_client_that_leaves_is_answered_as_through_the_router(client: TestClient) -> None:
    def left() -> list[dict[str, Any]]:
        return [{"type": "http.request", "body": BODY[:10], "more_body": True},
                {"type": "http.disconnect"}]
    bare = call(client, "/webhook", b"", signed(), left())
    assert bare == call(client, "/webhook", b"dry_run=false", signed(), left())
    assert bare[0] == 400 and bare[2] == b""


def test_an_unexpected_error_is_500_and_raised_on_to_the_server(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(client.app.state.services.pipeline, "receive", broken)  # type: ignore[attr-defined]
    bare = answer(client, "/webhook", BODY, signed())
    assert bare == answer(client, THROUGH_ROUTER, BODY, signed())
    assert bare[0] == 500 and bare[2] == b'{"error":"internal error"}'
    raising = TestClient(client.app)  # the lifespan's state is the running client's
    with pytest.raises(RuntimeError, match="a bug"):
        raising.post("/webhook", content=BODY, headers=signed())
