"""Previews: the decision a signal would get, with nothing stored and nothing executed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from plugins.mock import MockPlugin
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings

SECRET = WebhookSecret.generate()
ADMIN_TOKEN = "preview-admin-token-7f3a9c1e5b"
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def journal_file(tmp_path: Path) -> Path:
    return tmp_path / "j.db"


@pytest.fixture
def client(journal_file: Path) -> Iterator[TestClient]:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": ADMIN_TOKEN, "journal": f"sqlite:///{journal_file}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0, "prices": {"ETHUSDT": 2000}}},
        "symbol_maps": {"paper": {"ETH": "ETHUSDT"}},
        "sources": {
            "tv": {"passphrase": "open sesame", "confidence_threshold": 0.9},
            "signed": {"risk": {"max_signals_per_minute": 1, "max_quantity": 5}},
        },
    }
    with TestClient(create_app(Settings.model_validate(config))) as running:
        yield running


def stored_rows(journal_file: Path) -> int:
    with sqlite3.connect(journal_file) as connection:
        (count,) = connection.execute("SELECT count(*) FROM signals").fetchone()
    return int(count)


def paper(client: TestClient) -> MockPlugin:
    plugin = client.app.state.services.registry.get("paper")  # type: ignore[attr-defined]
    assert isinstance(plugin, MockPlugin)
    return plugin


def preview(client: TestClient, body: str, **params: str) -> Any:
    return client.post("/api/preview", content=body.encode(), params=params,
                       headers={**ADMIN, "content-type": "text/plain"})


def signed(client: TestClient, body: str, *, dry_run: str | None = None) -> Any:
    raw = body.encode()
    headers = {**signature_headers(SECRET, raw), "content-type": "text/plain"}
    params = {"dry_run": dry_run} if dry_run is not None else {}
    return client.post("/webhook", content=raw, headers=headers, params=params)


def test_preview_tells_routing_mapping_and_sizing_and_stores_nothing(
    client: TestClient, journal_file: Path
) -> None:
    answer = preview(client, "buy 1000 ETH limit 2000 unit quote confidence 0.8")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "queued" and body["stored"] is False
    assert body["plugin"] == "paper"
    assert body["alert_symbol"] == "ETH" and body["order"]["symbol"] == "ETHUSDT"
    assert body["order"]["quantity"] == 0.5
    assert body["sizing"] == "1000 quote / 2000 (limit price) = 0.5 (the alert)"
    assert body["threshold"] == 0.6
    assert stored_rows(journal_file) == 0
    assert paper(client).position("ETHUSDT") == 0


def test_preview_names_the_risk_rule_that_would_reject(
    client: TestClient, journal_file: Path
) -> None:
    body = preview(client, "buy 6 ETHUSDT").json()
    assert body["status"] == "rejected"
    assert body["rule"] == "sources.signed.risk.max_quantity"
    assert stored_rows(journal_file) == 0


def test_preview_uses_the_named_sources_threshold(client: TestClient) -> None:
    alert = '{"symbol": "ETHUSDT", "side": "buy", "quantity": 1, "confidence": 0.8, ' \
        '"passphrase": "open sesame"}'
    body = preview(client, alert, source="tv").json()
    assert body["status"] == "filtered" and body["threshold"] == 0.9
    assert "below the threshold 0.9" in body["reason"]


def test_preview_of_an_unusable_body_names_the_field(
    client: TestClient, journal_file: Path
) -> None:
    body = preview(client, '{"symbol": "ETHUSDT", "side": "up", "quantity": 1}').json()
    assert body["status"] == "invalid" and body["field"] == "side"
    assert stored_rows(journal_file) == 0


def test_previews_take_no_rate_limit_slot(client: TestClient, journal_file: Path) -> None:
    for _ in range(3):
        assert preview(client, "buy 1 ETHUSDT").json()["status"] == "queued"
    answer = signed(client, "buy 1 ETHUSDT")
    assert answer.status_code == 202, answer.text
    assert preview(client, "buy 1 ETHUSDT").json()["rule"] == (
        "sources.signed.risk.max_signals_per_minute")
    assert stored_rows(journal_file) == 1


def test_preview_sees_the_kill_switch(client: TestClient) -> None:
    client.post("/api/kill-switch", json={"engaged": True, "reason": "test"}, headers=ADMIN)
    body = preview(client, "buy 1 ETHUSDT").json()
    assert body["status"] == "rejected" and body["rule"] == "kill_switch"


def test_preview_needs_the_admin_token(client: TestClient, journal_file: Path) -> None:
    answer = client.post("/api/preview", content=b"buy 1 ETHUSDT",
                         headers={"authorization": "Bearer wrong-token-wrong-token-1234"})
    assert answer.status_code == 401
    assert client.post("/api/preview", content=b"buy 1 ETHUSDT").status_code == 401


def test_preview_refuses_an_unknown_source(client: TestClient) -> None:
    answer = preview(client, "buy 1 ETHUSDT", source="nope")
    assert answer.status_code == 400 and answer.json()["field"] == "source"


def test_preview_keeps_the_sources_passphrase(client: TestClient) -> None:
    assert preview(client, "buy 1 ETHUSDT", source="tv").status_code == 403
    alert = '{"symbol": "ETHUSDT", "side": "buy", "quantity": 1, "confidence": 0.95, ' \
        '"passphrase": "open sesame"}'
    body = preview(client, alert, source="tv").json()
    assert body["status"] == "queued"


def test_dry_run_of_a_signed_request_stores_and_executes_nothing(
    client: TestClient, journal_file: Path
) -> None:
    answer = signed(client, "buy 2 ETHUSDT", dry_run="true")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "queued" and answer.json()["stored"] is False
    assert "signal_id" not in answer.json()
    assert stored_rows(journal_file) == 0
    assert paper(client).position("ETHUSDT") == 0


def test_dry_run_is_verified_like_any_signed_request(
    client: TestClient, journal_file: Path
) -> None:
    raw = b"buy 2 ETHUSDT"
    headers = {**signature_headers(SECRET, raw), "content-type": "text/plain"}
    answer = client.post("/webhook", content=raw + b"0", headers=headers,
                         params={"dry_run": "true"})
    assert answer.status_code == 401
    assert signed(client, "buy 2 ETHUSDT", dry_run="maybe").json()["field"] == "dry_run"
    assert stored_rows(journal_file) == 0


def test_dry_run_false_is_an_ordinary_signal(client: TestClient, journal_file: Path) -> None:
    assert signed(client, "buy 2 ETHUSDT", dry_run="false").status_code == 202
    assert stored_rows(journal_file) == 1
