"""The policy inside the running app: sizing kept in the journal, sources' rules, duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings

SECRET = WebhookSecret.generate()
ADMIN = {"authorization": "Bearer policy-admin-token-3e7b1c9a5f"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": "policy-admin-token-3e7b1c9a5f",
        "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0, "slippage": 0,
                              "prices": {"ETHUSDT": 2000, "EURUSD": 1.085, "AAPL": 190},
                              "symbol_specs": {"EURUSD": {"digits": 5}}}},
        "sources": {
            "tv": {"passphrase": "open sesame"},
            "signed": {"risk": {"max_signals_per_minute": 2}},
        },
    }
    with TestClient(create_app(Settings.model_validate(config))) as running:
        yield running


def signed(client: TestClient, body: str, msg_id: str | None = None) -> Any:
    raw = body.encode()
    headers = {**signature_headers(SECRET, raw, msg_id=msg_id), "content-type": "text/plain"}
    return client.post("/webhook", content=raw, headers=headers)


def from_source(client: TestClient, body: str, source: str = "tv") -> Any:
    token = make_source_token([SECRET], source)
    return client.post(f"/webhook/{token}", content=body.encode(),
                       headers={"content-type": "text/plain"})


def record(client: TestClient, answer: Any) -> Any:
    return client.get(f"/api/signals/{answer.json()['signal_id']}", headers=ADMIN).json()


def test_how_the_quantity_was_computed_is_journaled(client: TestClient) -> None:
    answer = signed(client, "buy 1000 ETHUSDT limit 2000 unit quote")
    assert answer.status_code == 202, answer.text
    stored = record(client, answer)
    assert stored["order"]["quantity"] == 0.5
    assert stored["sizing"] == "1000 quote / 2000 (limit price) = 0.5 (the alert)"


def test_pineconnector_secret_is_the_sources_passphrase_and_is_redacted(
    client: TestClient,
) -> None:
    answer = from_source(client, "60123,buy,ETHUSDT,risk=1,secret=open sesame")
    assert answer.status_code == 202, answer.text
    assert "open sesame" not in record(client, answer)["raw_body"]
    assert from_source(client, "60123,buy,ETHUSDT,risk=1,secret=wrong").status_code == 403


def test_a_passphrase_sent_in_the_wrong_field_is_not_echoed_in_the_error(
    client: TestClient,
) -> None:
    body = '{"ticker": "ETHUSDT", "action": "buy", "quantity": "open sesame"}'
    answer = from_source(client, body)
    assert answer.status_code == 400 and answer.json()["field"] == "quantity", answer.text
    assert "open sesame" not in answer.text
    assert "open sesame" not in json.dumps(record(client, answer))


def test_url_source_may_not_choose_a_plugin_unless_allowed(client: TestClient) -> None:
    body = json.dumps({"ticker": "ETHUSDT", "action": "buy", "quantity": 1, "plugin": "paper",
                       "passphrase": "open sesame"})
    answer = from_source(client, body)
    assert answer.status_code == 400
    assert answer.json()["field"] == "plugin"
    assert signed(client, "buy 1 ETHUSDT plugin paper").status_code == 202


def test_a_duplicate_does_not_use_up_the_rate(client: TestClient) -> None:
    first = signed(client, "buy 1 ETHUSDT", msg_id="msg_rate_1")
    again = signed(client, "buy 1 ETHUSDT", msg_id="msg_rate_1")
    other = signed(client, "buy 1 ETHUSDT", msg_id="msg_rate_2")
    assert [first.status_code, again.json()["status"], other.status_code] == [
        202, "duplicate", 202
    ]
    third = signed(client, "buy 1 ETHUSDT", msg_id="msg_rate_3")
    assert third.json()["status"] == "rejected"
    assert third.json()["rule"] == "sources.signed.risk.max_signals_per_minute"


def test_rejection_answer_names_the_rule(client: TestClient) -> None:
    body = '{"ticker": "ETHUSDT", "action": "sell", "quantity": 50, "quantityType": ' \
           '"percent_of_position"}'
    answer = signed(client, body)
    assert answer.status_code == 200
    assert answer.json()["status"] == "rejected"
    assert answer.json()["rule"] == "sizing"
    assert record(client, answer)["reason"].startswith("sizing: 50% of the position")


# Alerts with managed exits: the stored order carries them, in price units whatever unit the
# alert gave them in (the exits engine, webhook.execute.exits, then manages them): these tests
# check the stored order.

def stored_exits(client: TestClient, body: str) -> Any:
    answer = signed(client, body)
    assert answer.status_code < 400, answer.text
    return record(client, answer)["order"]["exits"]


def test_native_exits_are_stored_with_the_order(client: TestClient) -> None:
    body = {"symbol": "ETHUSDT", "side": "buy", "quantity": 0.1,
            "exits": {"trailing_stop": {"percent": 1.5},
                      "take_profits": [{"price": 2100, "share": 0.5}]}}
    exits = stored_exits(client, json.dumps(body))
    assert exits["trailing_stop"]["percent"] == 1.5
    assert exits["take_profits"] == [{"price": 2100, "share": 0.5}]


def test_traderspost_trailing_stop_loss_is_stored_as_the_trailing_stop(
    client: TestClient,
) -> None:
    body = {"ticker": "AAPL", "action": "buy", "quantity": 10,
            "stopLoss": {"type": "trailing_stop", "trailAmount": 2}}
    assert stored_exits(client, json.dumps(body))["trailing_stop"]["amount"] == 2


def test_pineconnector_pips_are_stored_in_price(client: TestClient) -> None:
    exits = stored_exits(client, "60123456789,buy,EURUSD,risk=1,betrigger=15,traildist=20")
    assert exits["trailing_stop"]["amount"] == pytest.approx(0.002)
    assert exits["break_even"]["trigger"] == pytest.approx(0.0015)


def test_max_position_counts_every_queued_order_in_the_journal(tmp_path: Path) -> None:
    """Orders still queued count against the limit however many there are and whoever holds
    them: here no executor runs, so all of them wait in the journal."""
    config: dict[str, Any] = {
        "secret": [SECRET], "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "execution": {"enabled": False},
        "plugins": {"paper": {"type": "mock", "delay_ms": 0, "risk": {"max_position": 2}}},
    }
    with TestClient(create_app(Settings.model_validate(config))) as running:
        assert signed(running, "buy 1.5 ETHUSDT").json()["status"] == "queued"
        answer = signed(running, "buy 1 ETHUSDT").json()
        assert answer["status"] == "rejected", answer
        assert "now 0, queued orders +1.5, this order +1" in answer["reason"]
        assert signed(running, "buy 0.5 ETHUSDT").json()["status"] == "queued"
