"""Position sync: an alert's expected position checked against the broker's, per source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.webhook.decide.app_helpers import settled
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings
from webhook.observe.events import SignalEvent
from webhook.observe.notify.messages import notification_for

SECRET = WebhookSecret.generate()
TOKEN = "sync-admin-token-8c2f4a6e1b"
ADMIN = {"authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": TOKEN,
        "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 300, "prices": {"ESUSD": 5000}}},
        "sources": {mode: {"on_position_mismatch": mode}
                    for mode in ("ignore", "reject", "resync")},
    }
    with TestClient(create_app(Settings.model_validate(config))) as running:
        yield running


def alert(client: TestClient, source: str, **fields: str) -> Any:
    body = {"ticker": "ESUSD", **fields}
    token = make_source_token([SECRET], source)
    return client.post(f"/webhook/{token}", content=json.dumps(body).encode(),
                       headers={"content-type": "application/json"})




def position(client: TestClient) -> float:
    services = client.app.state.services  # type: ignore[attr-defined]
    return float(services.registry.get("paper").position("ESUSD"))


def events(client: TestClient) -> list[SignalEvent]:
    seen: list[SignalEvent] = []
    client.app.state.services.events.listen(seen.append)  # type: ignore[attr-defined]
    return seen


# The strategy went long 1, then adds 1 more: it expects long 1 before the second order. The
# first alert was missed, so the broker is flat.
MISSED = {"action": "buy", "contracts": "1", "market_position": "long",
          "market_position_size": "2", "prev_market_position": "long",
          "prev_market_position_size": "1"}


def test_an_alert_whose_expected_position_matches_is_sent_without_a_word(
    client: TestClient,
) -> None:
    seen = events(client)
    first = alert(client, "reject", action="buy", contracts="1", market_position="long",
                  market_position_size="1", prev_market_position="flat")
    settled(client, first.json()["signal_id"], ADMIN)
    second = alert(client, "reject", **MISSED)
    record = settled(client, second.json()["signal_id"], ADMIN)

    assert record["status"] == "filled"
    assert position(client) == 2
    assert not [e for e in seen if e.kind == "position_mismatch"]


def test_reject_refuses_a_missed_alert_and_tells(client: TestClient) -> None:
    seen = events(client)
    answer = alert(client, "reject", **MISSED)

    assert answer.json()["status"] == "rejected"
    assert "position mismatch: the alert expects 1 before its order, plugin 'paper' holds 0" \
        in answer.json()["reason"]
    (event,) = [e for e in seen if e.kind == "position_mismatch"]
    note = notification_for(event, None)
    assert note is not None and note.event == "position_mismatch"
    assert "POSITION MISMATCH" in note.text
    assert position(client) == 0


def test_ignore_sends_it_as_it_is_and_records_the_mismatch(client: TestClient) -> None:
    seen = events(client)
    answer = alert(client, "ignore", **MISSED)
    record = settled(client, answer.json()["signal_id"], ADMIN)

    assert record["status"] == "filled"
    assert "position mismatch" in record["reason"] and "sent as it is" in record["reason"]
    assert [e.kind for e in seen].count("position_mismatch") == 1
    assert position(client) == 1


def test_resync_orders_what_reaches_the_position_the_alert_leaves(client: TestClient) -> None:
    answer = alert(client, "resync", **MISSED)
    record = settled(client, answer.json()["signal_id"], ADMIN)

    assert record["status"] == "filled"
    assert record["order"]["action"] == "target"
    assert record["order"]["target_position"] == 2
    assert "resync: ordering what reaches 2" in record["reason"]
    assert position(client) == 2


def test_the_orders_queued_before_count_as_done(client: TestClient) -> None:
    # The second arrives while the first is still being sent (the paper broker takes 300 ms):
    # the position it expects is the one the first leaves, not the broker's now.
    first = alert(client, "reject", action="buy", contracts="1", market_position="long",
                  market_position_size="1", prev_market_position="flat")
    second = alert(client, "reject", **MISSED)
    assert position(client) == 0
    assert second.json()["status"] == "queued", second.text
    settled(client, first.json()["signal_id"], ADMIN)
    settled(client, second.json()["signal_id"], ADMIN)
    assert position(client) == 2
