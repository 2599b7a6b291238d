"""The agent API: each agent's token, scopes and limits, its signals recorded as its own."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from plugins.mock import MockPlugin
from webhook.app import create_app
from webhook.config.settings import Settings

ADMIN_TOKEN = "agents-admin-token-2b7d9e4f1a"
SCOUT = "scout-agent-token-4f8e2a6c9b1d"
READER = "reader-agent-token-8c3f1e7a2d5b"


@pytest.fixture
def journal_file(tmp_path: Path) -> Path:
    return tmp_path / "j.db"


@pytest.fixture
def client(journal_file: Path) -> Iterator[TestClient]:
    config: dict[str, Any] = {
        "admin_token": ADMIN_TOKEN, "journal": f"sqlite:///{journal_file}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0, "prices": {"ETHUSDT": 2000}},
                    "other": {"type": "mock", "delay_ms": 0}},
        "default_plugin": "paper",
        "agents": {
            "scout": {"token": SCOUT, "scopes": ["read", "preview", "submit"],
                      "plugins": ["paper"], "symbols": ["ETHUSDT", "BTCUSDT"]},
            "reader": {"token": READER, "scopes": ["read"]},
        },
    }
    with TestClient(create_app(Settings.model_validate(config))) as running:
        yield running


def as_agent(token: str, **more: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", **more}


def submit(client: TestClient, signal: dict[str, Any], token: str = SCOUT,
           key: str | None = None) -> Any:
    headers = as_agent(token, **({"idempotency-key": key} if key else {}))
    return client.post("/api/agent/signals", json=signal, headers=headers)


def rows(journal_file: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(journal_file) as connection:
        return connection.execute("SELECT source, status FROM signals ORDER BY id").fetchall()


def paper(client: TestClient) -> MockPlugin:
    plugin = client.app.state.services.registry.get("paper")  # type: ignore[attr-defined]
    assert isinstance(plugin, MockPlugin)
    return plugin


BUY = {"symbol": "ETHUSDT", "side": "buy", "quantity": 1, "confidence": 0.8}


def test_an_agents_signal_is_recorded_as_the_agents(
    client: TestClient, journal_file: Path
) -> None:
    answer = submit(client, BUY)
    assert answer.status_code == 202, answer.text
    assert [source for source, _ in rows(journal_file)] == ["agent:scout"]
    signal_id = answer.json()["signal_id"]
    seen = client.get(f"/api/agent/signals/{signal_id}", headers=as_agent(SCOUT)).json()
    assert seen["source"] == "agent:scout"


def test_a_retried_idempotency_key_gives_one_signal_and_one_order(
    client: TestClient, journal_file: Path
) -> None:
    first = submit(client, BUY, key="plan-7-step-1").json()
    again = submit(client, BUY, key="plan-7-step-1").json()
    assert again == {"status": "duplicate", "signal_id": first["signal_id"]}
    assert len(rows(journal_file)) == 1
    for _ in range(1000):  # bounded (10 s): the executor fills a paper order in milliseconds
        if paper(client).position("ETHUSDT") != 0:
            break
        time.sleep(0.01)
    assert paper(client).position("ETHUSDT") == 1


def test_a_token_without_submit_scope_is_refused_and_nothing_stored(
    client: TestClient, journal_file: Path
) -> None:
    answer = submit(client, BUY, token=READER)
    assert answer.status_code == 403 and "'submit' scope" in answer.json()["error"]
    assert rows(journal_file) == []


def test_a_wrong_token_is_refused(client: TestClient, journal_file: Path) -> None:
    assert submit(client, BUY, token="not-an-agent-token-at-all-123").status_code == 401
    assert client.post("/api/agent/signals", json=BUY).status_code == 401
    assert client.get("/api/agent/limits", headers=as_agent(ADMIN_TOKEN)).status_code == 401
    assert rows(journal_file) == []


def test_a_plugin_or_symbol_outside_the_agents_lists_is_rejected(client: TestClient) -> None:
    other = submit(client, {**BUY, "plugin": "other"}).json()
    assert other["status"] == "rejected" and other["rule"] == "agents.scout.plugins"
    doge = submit(client, {**BUY, "symbol": "DOGEUSDT"}).json()
    assert doge["status"] == "rejected" and doge["rule"] == "agents.scout.symbols"


def test_an_agent_sees_only_its_own_signals(client: TestClient) -> None:
    mine = submit(client, BUY).json()["signal_id"]
    assert client.get(f"/api/agent/signals/{mine}", headers=as_agent(READER)).status_code == 404
    listed = client.get("/api/agent/signals", headers=as_agent(READER)).json()["signals"]
    assert listed == []
    listed = client.get("/api/agent/signals", headers=as_agent(SCOUT)).json()["signals"]
    assert [s["id"] for s in listed] == [mine]


def test_an_agents_preview_follows_its_limits_and_stores_nothing(
    client: TestClient, journal_file: Path
) -> None:
    answer = client.post("/api/preview", json={**BUY, "symbol": "DOGEUSDT"},
                         headers=as_agent(SCOUT))
    assert answer.json()["rule"] == "agents.scout.symbols"
    assert client.post("/api/preview", json=BUY, headers=as_agent(READER)).status_code == 403
    assert rows(journal_file) == []


def test_an_agent_engages_the_kill_switch_and_cannot_release_it(client: TestClient) -> None:
    answer = client.post("/api/agent/kill-switch", json={"reason": "drawdown"},
                         headers=as_agent(READER))
    assert answer.status_code == 200 and answer.json()["engaged"] is True
    assert "agent reader: drawdown" in answer.json()["reason"]
    refused = client.post("/api/agent/kill-switch", json={"engaged": False, "reason": "go"},
                          headers=as_agent(READER))
    assert refused.status_code == 400
    assert client.post("/api/kill-switch", json={"engaged": False},
                       headers=as_agent(READER)).status_code == 401
    assert submit(client, BUY).json()["rule"] == "kill_switch"
    limits = client.get("/api/agent/limits", headers=as_agent(SCOUT)).json()
    assert limits["kill_switch"]["engaged"] is True
    assert limits["plugins"] == ["paper"] and limits["confidence_threshold"] == 0.6


def test_an_unusable_idempotency_key_is_refused(client: TestClient, journal_file: Path) -> None:
    answer = submit(client, BUY, key="has spaces/and slashes")
    assert answer.status_code == 400 and answer.json()["field"] == "Idempotency-Key"
    assert rows(journal_file) == []


def test_an_agent_reads_balance_and_positions_of_its_plugins(client: TestClient) -> None:
    submit(client, BUY)
    for _ in range(1000):  # bounded (10 s): the executor fills a paper order in milliseconds
        if paper(client).position("ETHUSDT") != 0:
            break
        time.sleep(0.01)
    balance = client.get("/api/agent/plugins/paper/balance", headers=as_agent(SCOUT)).json()
    assert balance["plugin"] == "paper" and balance["equity"] > 0
    position = client.get("/api/agent/plugins/paper/positions/ETHUSDT",
                          headers=as_agent(SCOUT)).json()
    assert position == {"plugin": "paper", "symbol": "ETHUSDT", "position": 1.0}


def test_an_agent_cannot_read_a_plugin_outside_its_list(client: TestClient) -> None:
    answer = client.get("/api/agent/plugins/other/balance", headers=as_agent(SCOUT))
    assert answer.status_code == 404
    assert client.get("/api/agent/plugins/paper/balance").status_code == 401


def test_an_agent_repeats_a_target_without_ordering_twice(client: TestClient) -> None:
    target = {"symbol": "ETHUSDT", "action": "target", "target_position": -2,
              "confidence": 0.8}
    for _ in range(2):
        answer = submit(client, target)
        assert answer.status_code == 202, answer.text
        signal_id = answer.json()["signal_id"]
        for _ in range(200):  # bounded: the executor settles a paper order within a few steps
            seen = client.get(f"/api/agent/signals/{signal_id}", headers=as_agent(SCOUT))
            if seen.json()["status"] == "filled":
                break
    assert paper(client).position("ETHUSDT") == -2
    assert seen.json()["result"]["filled_quantity"] == 0
