"""Whatever arrives, the app answers without an unhandled error, answers 5xx only with the 503
of a journal that is down, and stores and executes nothing that lacks a valid signature or
source URL.

Hypothesis drives the whole ASGI app in process (lifespan, SQLite journal, executor, paper
plugin) with random bodies, headers, content types, signatures and source tokens, some valid
and most not, while the journal goes down now and then.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from plugins.mock import MockPlugin
from plugins.orders import ExecutionResult, Order
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, sign, signature_headers
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings
from webhook.errors import JournalError
from webhook.journal import NewSignal, SqliteJournal, Stored

SECRET = WebhookSecret.generate()
STRANGER = WebhookSecret.generate()
ADMIN_TOKEN = "hostile-input-admin-token"
PASSPHRASE = "open-sesame-1234"
MAX_BODY = 1024
CONFIG = {
    "secret": [str(SECRET)],
    "admin_token": ADMIN_TOKEN,
    "max_body_bytes": MAX_BODY,
    "plugins": {"mock": {"type": "mock", "delay_ms": 0}},
    "sources": {
        "tradingview": {},
        "guarded": {"passphrase": PASSPHRASE},
        "revoked": {"generation": 2},
    },
}
STORED_ANSWERS = {200, 202, 400}


class OutageJournal(SqliteJournal):
    """A SQLite journal whose disk fails while `down`: nothing new can be stored."""

    down = False

    async def record(self, signal: NewSignal) -> Stored:
        if self.down:
            raise JournalError("disk I/O error")
        return await super().record(signal)

    async def healthy(self) -> bool:
        return not self.down and await super().healthy()


# -- what senders post ----------------------------------------------------------------------

ALERTS = [
    b"buy 0.1 BTCUSDT",
    b"sell 2 ES limit 5000 sl 4990 tp 5020 confidence 0.8",
    b"close EURUSD",
    b'{"symbol": "BTCUSDT", "side": "buy", "quantity": 0.01}',
    b'{"symbol": "ETHUSDT", "side": "sell", "quantity": 1, "plugin": "mock", "id": "a1"}',
    b'{"ticker": "BINANCE:BTCUSDT", "action": "buy", "quantity": "1", "price": "65000"}',
    b'{"ticker": "ES1!", "strategy.order.action": "sell", "contracts": "2"}',
    b"60123,buy,EURUSD,risk=1,sl=1.07",
    b'{"symbol": "BTCUSDT", "side": "buy", "quantity": 1, "passphrase": "open-sesame-1234"}',
    b"buy 1 BTCUSDT passphrase=open-sesame-1234",
]
KEYS = ["symbol", "side", "quantity", "price", "order_type", "confidence", "action", "plugin",
        "id", "ticker", "sentiment", "passphrase", "stop_loss", "take_profit", "comment"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
    st.sampled_from(["buy", "sell", "BTCUSDT", "market", "limit", "1e400", "-1", "mock",
                     "nowhere", PASSPHRASE]),
)
JSON_BODIES = st.dictionaries(
    st.sampled_from(KEYS), st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)),
    max_size=6,
).map(lambda payload: json.dumps(payload).encode())  # NaN and Infinity too
BODIES = st.one_of(
    st.sampled_from(ALERTS),
    JSON_BODIES,
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.tuples(st.sampled_from(ALERTS), st.binary(max_size=20)).map(b"".join),
    st.integers(MAX_BODY - 20, MAX_BODY + 200).map(lambda size: b"buy 1 BTCUSDT ".ljust(size)),
)
HEADER_VALUES = st.binary(max_size=40).map(
    lambda raw: bytes(b for b in raw if b >= 0x20 and b != 0x7F)
)
CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from([b"application/json", b"text/plain", b"text/plain; charset=utf-8",
                     b"application/x-www-form-urlencoded", b"application/vnd.alert+json",
                     b"APPLICATION/JSON", b"application/xml", b"multipart/form-data; b=x",
                     b"", b";", b"text/plain;;;=", b"application/json; charset=\xff"]),
    HEADER_VALUES,
)
WEBHOOK_IDS = st.one_of(
    st.uuids().map(lambda uuid: f"msg_{uuid}"),
    st.sampled_from(["msg_1", "msg_2", "x" * 256, "x" * 257, "tab\there", " "]),
    st.text(min_size=1, max_size=30).filter(lambda text: text.isascii()),
)
IN_WINDOW = st.sampled_from([0, -60, 120, -290, 290])
OUT_OF_WINDOW = st.one_of(st.integers(301, 10**7), st.integers(-(10**7), -301))


@dataclass
class Hostile:
    method: str
    path: str
    body: bytes
    headers: dict[str, bytes]
    authentic: bool
    """Carries a valid signature or source URL; only such a request may be stored."""
    journal_down: bool = False
    notes: list[str] = field(default_factory=list)


@st.composite
def signed_requests(draw: st.DrawFn) -> Hostile:
    body = draw(BODIES)
    webhook_id = draw(WEBHOOK_IDS)
    how = draw(st.sampled_from(["valid", "rotated", "stranger", "tampered", "stale", "garbage",
                                "missing", "not_v1"]))
    offset = draw(OUT_OF_WINDOW if how == "stale" else IN_WINDOW)
    stamp = int(time.time()) + offset
    signature = sign(SECRET, webhook_id, stamp, body)
    if how == "rotated":  # several entries, one of them valid
        signature = " ".join([sign(STRANGER, webhook_id, stamp, body), "v1,AAAA", signature])
    elif how == "stranger":
        signature = sign(STRANGER, webhook_id, stamp, body)
    elif how == "tampered":
        signature = sign(SECRET, webhook_id, stamp, body + b" ")
    elif how == "not_v1":
        signature = signature.replace("v1,", draw(st.sampled_from(["v2,", "v1a,", ",", ""])))
    headers = {
        "webhook-id": webhook_id.encode(),
        "webhook-timestamp": str(stamp).encode(),
        "webhook-signature": signature.encode(),
    }
    if how == "garbage":
        name = draw(st.sampled_from(sorted(headers)))
        headers[name] = draw(HEADER_VALUES)
    elif how == "missing":
        del headers[draw(st.sampled_from(sorted(headers)))]
    authentic = how in ("valid", "rotated")
    return Hostile("POST", "/webhook", body, headers, authentic, notes=[how])


@st.composite
def source_requests(draw: st.DrawFn) -> Hostile:
    body = draw(BODIES)
    how = draw(st.sampled_from(["tradingview", "guarded", "revoked", "unconfigured", "stranger",
                                "tampered", "garbage"]))
    if how in ("tradingview", "guarded", "revoked", "unconfigured"):
        token = make_source_token([SECRET], how)
    elif how == "stranger":
        token = make_source_token([STRANGER], "tradingview")
    elif how == "tampered":
        token = make_source_token([SECRET], "tradingview")
        # Not the last character: its low bits are base64 padding, so some changes there decode
        # to the same signature bytes (another spelling of the valid token, not a forgery).
        at = draw(st.integers(0, len(token) - 2))
        token = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]
    else:
        token = draw(st.text(max_size=600))
    authentic = how == "tradingview" or (how == "guarded" and PASSPHRASE.encode() in body)
    path = "/webhook/" + quote(token, safe="")
    return Hostile("POST", path, body, {}, authentic, notes=[how])


@st.composite
def admin_requests(draw: st.DrawFn) -> Hostile:
    token = draw(st.one_of(st.just(ADMIN_TOKEN.encode()), HEADER_VALUES))
    scheme = draw(st.sampled_from([b"Bearer ", b"bearer ", b"Basic ", b""]))
    query = draw(st.dictionaries(
        st.sampled_from(["status", "source", "symbol", "limit", "before", "x"]),
        st.one_of(st.sampled_from(["queued", "filled", "0", "501", "-1", "1e3"]),
                  st.text(max_size=10)),
        max_size=3,
    ))
    path = draw(st.sampled_from(["/api/signals", "/api/signals/" + quote(draw(st.text()), safe=""),
                                 "/api/kill-switch", "/api/plugins", "/ready", "/metrics"]))
    method = "POST" if path == "/api/kill-switch" and draw(st.booleans()) else "GET"
    body = draw(st.one_of(st.just(b""), JSON_BODIES, st.binary(max_size=50)))
    headers = {"authorization": scheme + token}
    path += "?" + str(httpx.QueryParams(query)) if query else ""
    return Hostile(method, path, body if method == "POST" else b"", headers, False)


@st.composite
def hostile_requests(draw: st.DrawFn) -> Hostile:
    request = draw(st.one_of(signed_requests(), source_requests(), admin_requests()))
    if request.path.startswith("/webhook"):
        content_type = draw(CONTENT_TYPES)
        if content_type is not None:
            request.headers["content-type"] = content_type
        if draw(st.booleans()):
            request.headers["x-forwarded-for"] = draw(HEADER_VALUES)
        request.method = draw(st.sampled_from(["POST"] * 8 + ["GET", "PUT"]))
    request.journal_down = draw(st.integers(0, 9)) == 0
    return request


# -- the app under attack -------------------------------------------------------------------


@dataclass
class Target:
    client: TestClient
    journal: OutageJournal
    executed: list[str]
    admin: TestClient
    """The administrator, from another address than the attacker's (whose wrong admin tokens
    get it throttled)."""
    acknowledged: set[str] = field(default_factory=set)

    def admin_get(self, path: str, **params: Any) -> Any:
        answer = self.admin.get(
            path, params=params, headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    executed: list[str] = []
    paper_execute = MockPlugin.execute_order

    async def execute_order(plugin: MockPlugin, order: Order) -> ExecutionResult:
        executed.append(order.client_order_id or "")
        return await paper_execute(plugin, order)

    monkeypatch.setattr(MockPlugin, "execute_order", execute_order)
    journal = OutageJournal(tmp_path / "journal.db")
    app = create_app(Settings.model_validate(CONFIG), journal=journal)
    with TestClient(app) as client:
        admin = TestClient(app, client=("192.0.2.10", 50000))
        admin.portal = client.portal  # the same event loop as the app's lifespan
        yield Target(client, journal, executed, admin)


def send(target: Target, request: Hostile) -> httpx.Response:
    target.journal.down = request.journal_down
    try:
        answer: httpx.Response = target.client.request(
            request.method, request.path, content=request.body, headers=request.headers
        )
        return answer
    finally:
        target.journal.down = False


def check_answer(target: Target, request: Hostile, answer: httpx.Response) -> None:
    context = f"{request} -> {answer.status_code} {answer.text[:300]}"
    if answer.status_code == 503:
        assert request.journal_down, context
    else:
        assert answer.status_code < 500, context
    if answer.status_code >= 500 or not request.path.startswith("/webhook"):
        return
    body = answer.json() if answer.headers.get("content-type") == "application/json" else {}
    if request.notes == ["guarded"]:
        assert PASSPHRASE not in answer.text, context
    if "signal_id" in body:
        assert request.authentic, context
        assert answer.status_code in STORED_ANSWERS, context
        target.acknowledged.add(body["signal_id"])
    else:
        assert answer.status_code in (401, 403, 404, 405, 413, 415), context


def all_signals(target: Target) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500}
    while page := target.admin_get("/api/signals", **params)["signals"]:
        found += page
        params["before"] = page[-1]["id"]
    return found


def wait_for_executor(target: Target) -> None:
    deadline = time.monotonic() + 10
    while target.admin_get("/api/signals", status="queued")["signals"] or target.admin_get(
        "/api/signals", status="executing"
    )["signals"]:
        assert time.monotonic() < deadline, "the executor did not finish"
        time.sleep(0.02)


def test_hostile_requests_never_crash_and_never_execute_unauthenticated(target: Target) -> None:
    control = Hostile("POST", "/webhook", b"buy 0.1 BTCUSDT", {}, authentic=True)
    control.headers = {k: v.encode() for k, v in signature_headers(SECRET, control.body).items()}
    answer = send(target, control)
    check_answer(target, control, answer)
    assert answer.json()["status"] == "queued"

    @settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
    @given(hostile_requests())
    def attack(request: Hostile) -> None:
        check_answer(target, request, send(target, request))

    attack()
    wait_for_executor(target)

    stored = all_signals(target)
    assert {s["id"] for s in stored} <= target.acknowledged, "stored without an acknowledgement"
    assert set(target.executed) <= target.acknowledged, "executed without authentication"
    assert target.executed, "no authentic signal was executed: the test proves nothing"
    for signal in stored:
        if signal["source"] == "guarded":
            record = target.admin_get(f"/api/signals/{signal['id']}")
            assert PASSPHRASE not in str(record), record
