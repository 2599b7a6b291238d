"""End to end: every bad request gets its own answer, nothing is executed, the server lives on."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import RunningServer, start_server
from webhook.auth.signatures import WebhookSecret, sign, signature_headers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"
BODY = b"buy 0.1 BTC/USDT"


def _count(server: RunningServer) -> int:
    return len(server.admin_get("/api/signals", limit=500).json()["signals"])


def _post(server: RunningServer, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{server.url}/webhook", content=body, headers=headers, timeout=10)


def _signed(server: RunningServer, body: bytes = BODY, **changes: str) -> dict[str, str]:
    headers = signature_headers(server.secret, body)
    headers["content-type"] = "text/plain"
    headers.update({k.replace("_", "-"): v for k, v in changes.items()})
    return headers


def _at(server: RunningServer, timestamp: int) -> dict[str, str]:
    return {
        "content-type": "text/plain",
        "webhook-id": "msg_time",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(server.secret, "msg_time", timestamp, BODY),
    }


UNAUTHENTICATED: dict[str, Callable[[RunningServer], dict[str, str]]] = {
    "wrong secret": lambda s: {
        **signature_headers(WebhookSecret.generate(), BODY), "content-type": "text/plain"
    },
    "no headers": lambda s: {"content-type": "text/plain"},
    "garbage timestamp": lambda s: _signed(s, webhook_timestamp="yesterday"),
    "garbage signature": lambda s: _signed(s, webhook_signature="v1,!!!not base64!!!"),
    "signature of another version": lambda s: _signed(
        s, webhook_signature=_signed(s)["webhook-signature"].replace("v1,", "v2,")
    ),
    "stale timestamp": lambda s: _at(s, int(time.time()) - 360),
    "future timestamp": lambda s: _at(s, int(time.time()) + 360),
}


@pytest.mark.parametrize("case", list(UNAUTHENTICATED))
def test_unauthenticated_request_is_401_and_not_stored(server: RunningServer, case: str) -> None:
    before = _count(server)
    answer = _post(server, BODY, UNAUTHENTICATED[case](server))
    assert answer.status_code == 401
    assert "error" in answer.json()
    assert "Traceback" not in answer.text
    assert _count(server) == before
    assert httpx.get(f"{server.url}/health").status_code == 200


INVALID: dict[str, tuple[bytes, str, str]] = {
    "malformed JSON": (b'{"symbol": "BTC/USDT", "side": ', "application/json", "body"),
    "negative quantity": (
        b'{"symbol": "BTC/USDT", "side": "buy", "quantity": -1}', "application/json", "quantity"
    ),
    "confidence 7": (
        b'{"symbol": "BTC/USDT", "side": "buy", "quantity": 1, "confidence": 7}',
        "application/json",
        "confidence",
    ),
    "unfilled placeholder": (
        (FIXTURES / "tradingview_placeholders_not_filled.json").read_bytes(),
        "application/json",
        "ticker",
    ),
    "unknown plugin": (
        b'{"symbol": "BTC/USDT", "side": "buy", "quantity": 1, "plugin": "nope"}',
        "application/json",
        "plugin",
    ),
    "empty body": (b"", "text/plain", "body"),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_unusable_body_is_400_stored_as_invalid_and_not_executed(
    server: RunningServer, case: str
) -> None:
    body, content_type, field = INVALID[case]
    answer = _post(server, body, {**_signed(server, body), "content-type": content_type})
    assert answer.status_code == 400
    reply = answer.json()
    assert reply["status"] == "invalid"
    assert reply["field"] == field
    assert reply["error"].startswith(field)
    record = server.signal(reply["signal_id"])
    assert record["status"] == "invalid"
    assert record["attempts"] == []
    assert record["raw_body"] == body.decode()
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_body_over_64_kib_is_413_and_not_stored(server: RunningServer) -> None:
    before = _count(server)
    body = json.dumps({"symbol": "BTC/USDT", "side": "buy", "quantity": 1,
                       "comment": "x" * 70_000}).encode()
    answer = _post(server, body, {**_signed(server, body), "content-type": "application/json"})
    assert answer.status_code == 413
    assert _count(server) == before


def test_body_over_the_limit_without_content_length_is_413(server: RunningServer) -> None:
    body = b"buy 1 BTC/USDT comment " + b"x" * 70_000

    def chunks() -> object:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    headers = _signed(server, body)
    answer = httpx.post(f"{server.url}/webhook", content=chunks(), headers=headers)  # type: ignore[arg-type]
    assert answer.status_code == 413


def test_odd_content_type_is_415_and_not_stored(server: RunningServer) -> None:
    before = _count(server)
    answer = _post(server, BODY, {**_signed(server), "content-type": "image/png"})
    assert answer.status_code == 415
    assert _count(server) == before


def test_rotated_secrets_both_verify(tmp_path: Path) -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    running = start_server(tmp_path, env={"TRADEHOOK_SECRET": f"{new},{old}"})
    try:
        for key in (old, new):
            headers = {**signature_headers(key, BODY), "content-type": "text/plain"}
            assert _post(running, BODY, headers).status_code == 202
        stranger = {**signature_headers(WebhookSecret.generate(), BODY),
                    "content-type": "text/plain"}
        assert _post(running, BODY, stranger).status_code == 401
    finally:
        running.stop()


def test_admin_api_refuses_without_the_token(server: RunningServer) -> None:
    assert httpx.get(f"{server.url}/api/signals").status_code == 401
    wrong = {"authorization": "Bearer not-the-token"}
    assert httpx.get(f"{server.url}/api/signals", headers=wrong).status_code == 401
