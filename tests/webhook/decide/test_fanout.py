"""Fan-out in the running app: one signal, one child signal per account, each decided and
executed on its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from plugins.mock import MockPlugin
from tests.webhook.decide.app_helpers import settled
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.auth.source_urls import make_source_token
from webhook.config.settings import Settings

SECRET = WebhookSecret.generate()
TOKEN = "fanout-admin-token-5d1e9b7c3a"
ADMIN = {"authorization": f"Bearer {TOKEN}"}
PRICES = {"ETHUSDT": 2000}


def settings(tmp_path: Path, **extra: Any) -> Settings:
    paper = {"type": "mock", "delay_ms": 0, "prices": PRICES, "equity": 10_000}
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": TOKEN,
        "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "default_plugin": "main",
        "plugins": {
            "main": paper, "sub": paper, "small": paper,
            "strict": {**paper, "risk": {"max_quantity": 1}},
        },
        "account_groups": {"all": {
            "main": {"multiplier": 1}, "sub": {"multiplier": 0.5}, "small": {"quantity": 0.1},
        }},
        "sources": {"tv": {"plugin": "all"}, "open": {"allow_accounts_field": True}},
    }
    return Settings.model_validate({**config, **extra})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(tmp_path))) as running:
        yield running


def from_source(client: TestClient, body: str, source: str = "tv") -> Any:
    token = make_source_token([SECRET], source)
    return client.post(f"/webhook/{token}", content=body.encode(),
                       headers={"content-type": "text/plain"})


def signed(client: TestClient, body: str, msg_id: str | None = None) -> Any:
    raw = body.encode()
    headers = {**signature_headers(SECRET, raw, msg_id=msg_id), "content-type": "text/plain"}
    return client.post("/webhook", content=raw, headers=headers)




def positions(client: TestClient, symbol: str) -> dict[str, float]:
    registry = client.app.state.services.registry  # type: ignore[attr-defined]
    return {name: registry.get(name).position(symbol) for name in ("main", "sub", "small")
            if isinstance(registry.get(name), MockPlugin)}


def test_a_signal_to_a_group_becomes_one_order_per_account_with_its_size(
    client: TestClient,
) -> None:
    answer = from_source(client, "buy 2 ETHUSDT")
    assert answer.status_code == 202, answer.text
    parent_id = answer.json()["signal_id"]

    record = settled(client, parent_id, ADMIN)

    assert record["status"] == "filled"
    children = record["children"]
    assert [c["id"] for c in children] == [f"{parent_id}.1", f"{parent_id}.2", f"{parent_id}.3"]
    assert [(c["plugin"], c["order"]["quantity"], c["status"]) for c in children] == [
        ("main", 2, "filled"), ("sub", 1, "filled"), ("small", 0.1, "filled"),
    ]
    assert [c["result"]["client_order_id"] for c in children] == [c["id"] for c in children]
    assert all(c["parent"] == parent_id for c in children)
    assert positions(client, "ETHUSDT") == {"main": 2, "sub": 1, "small": 0.1}


def test_an_account_that_refuses_does_not_hold_up_the_others(tmp_path: Path) -> None:
    groups = {"all": {"main": {}, "strict": {}}}
    with TestClient(create_app(settings(tmp_path, account_groups=groups))) as client:
        answer = from_source(client, "buy 2 ETHUSDT")
        assert answer.status_code == 202, answer.text
        record = settled(client, answer.json()["signal_id"], ADMIN)
        listed = client.get("/api/signals", headers=ADMIN).json()["signals"]

    assert [(c["plugin"], c["status"]) for c in record["children"]] == [
        ("main", "filled"), ("strict", "rejected"),
    ]
    assert "plugins.strict.risk.max_quantity" in record["children"][1]["reason"]
    assert record["status"] == "partially_filled"
    assert "2 strict rejected" in record["reason"]
    # the list shows the parent's derived status too, not fanned_out
    assert {s["id"]: s["status"] for s in listed}[record["id"]] == "partially_filled"


def test_a_repeated_idempotency_key_stores_no_second_set_of_children(
    client: TestClient,
) -> None:
    first = signed(client, '{"symbol": "ETHUSDT", "side": "buy", "quantity": 1, '
                           '"accounts": ["all"]}', msg_id="fan-1")
    again = signed(client, '{"symbol": "ETHUSDT", "side": "buy", "quantity": 1, '
                           '"accounts": ["all"]}', msg_id="fan-1")
    settled(client, first.json()["signal_id"], ADMIN)

    assert again.json() == {**again.json(), "status": "duplicate",
                            "signal_id": first.json()["signal_id"]}
    assert positions(client, "ETHUSDT") == {"main": 1, "sub": 0.5, "small": 0.1}


def test_an_alert_chooses_its_accounts_where_its_source_lets_it(client: TestClient) -> None:
    answer = from_source(client, '{"symbol": "ETHUSDT", "side": "buy", "quantity": 3, '
                                 '"accounts": "sub, small"}', source="open")
    record = settled(client, answer.json()["signal_id"], ADMIN)

    assert [(c["plugin"], c["order"]["quantity"]) for c in record["children"]] == [
        ("sub", 3), ("small", 3),
    ]


def test_a_source_that_does_not_let_alerts_choose_refuses_the_field(
    client: TestClient,
) -> None:
    answer = from_source(client, '{"symbol": "ETHUSDT", "side": "buy", "quantity": 3, '
                                 '"accounts": ["sub"]}')

    assert answer.status_code == 400
    assert answer.json()["field"] == "accounts"
    assert "allow_accounts_field" in answer.json()["error"]


def test_an_unknown_account_is_named(client: TestClient) -> None:
    answer = signed(client, '{"symbol": "ETHUSDT", "side": "buy", "quantity": 1, '
                            '"accounts": ["main", "nope"]}')

    assert answer.status_code == 400
    assert "unknown account 'nope'" in answer.json()["error"]


def test_an_account_sized_by_its_own_equity(tmp_path: Path) -> None:
    groups = {"all": {"main": {"sizing": {"unit": "percent_of_equity", "quantity": 10}}}}
    with TestClient(create_app(settings(tmp_path, account_groups=groups))) as client:
        answer = from_source(client, "buy 5 ETHUSDT")
        record = settled(client, answer.json()["signal_id"], ADMIN)

    (child,) = record["children"]
    assert child["order"]["quantity"] == pytest.approx(0.5, rel=0.01)  # 1000 / ask near 2000
    assert "10% of equity 10000" in child["sizing"]


def test_a_target_repeated_three_times_orders_once(client: TestClient) -> None:
    body = '{"symbol": "ETHUSDT", "action": "target", "target_position": %s, "plugin": "main"}'
    answers = [signed(client, body % 3) for _ in range(3)]
    records = [settled(client, a.json()["signal_id"], ADMIN) for a in answers]

    assert [r["status"] for r in records] == ["filled"] * 3
    assert [r["result"]["filled_quantity"] for r in records] == [3, 0, 0]
    assert [r["attempts"][-1]["outcome"] for r in records] == ["result"] * 3
    assert positions(client, "ETHUSDT")["main"] == 3

    settled(client, signed(client, body % -1).json()["signal_id"], ADMIN)
    assert positions(client, "ETHUSDT")["main"] == -1


def test_a_target_fans_out_scaled_per_account(client: TestClient) -> None:
    answer = from_source(client, '{"ticker": "ETHUSDT", "action": "target", '
                                 '"position_size": "-2"}')
    settled(client, answer.json()["signal_id"], ADMIN)

    assert positions(client, "ETHUSDT") == {"main": -2, "sub": -1, "small": -0.1}


def test_a_target_to_a_plugin_that_cannot_report_positions_is_rejected(
    tmp_path: Path,
) -> None:
    config = settings(tmp_path)
    with TestClient(create_app(config)) as client:
        registry = client.app.state.services.registry  # type: ignore[attr-defined]
        plugin = registry.get("main")
        plugin.capabilities = plugin.capabilities.model_copy(update={"positions": False})
        answer = signed(client, '{"symbol": "ETHUSDT", "action": "target", '
                                '"target_position": 1, "plugin": "main"}')

    assert answer.json()["status"] == "rejected"
    assert "cannot report positions" in answer.json()["reason"]
