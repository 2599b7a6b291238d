"""`GET /api/positions` (cached broker calls) and `GET /api/stats` (from the journal)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from plugins.mock import MockConfig, MockPlugin
from plugins.orders import AccountBalance
from plugins.registry import PluginRegistry
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings
from webhook.http.accounts import AccountCache
from webhook.journal import SqliteJournal

SECRET = WebhookSecret.generate()
ADMIN = {"authorization": "Bearer accounts-admin-token-5b8d2e7c1a"}


class CountingPaper(MockPlugin):
    """The paper plugin, counting what the broker was asked."""

    balance_calls = 0
    position_calls = 0

    async def fetch_balance(self) -> AccountBalance:
        type(self).balance_calls += 1
        await asyncio.sleep(0.05)  # a slow broker: callers meanwhile must share this call
        return await super().fetch_balance()

    async def fetch_position(self, symbol: str) -> float:
        type(self).position_calls += 1
        return await super().fetch_position(symbol)


@pytest.fixture(autouse=True)
def _reset_counts() -> None:
    CountingPaper.balance_calls = CountingPaper.position_calls = 0


async def _registry() -> PluginRegistry:
    registry = PluginRegistry()
    plugin = CountingPaper("paper")
    await plugin.init(MockConfig.model_validate({"delay_ms": 0, "prices": {"ETHUSDT": 2000}}))
    registry.register(plugin, default=True)
    return registry


@pytest.mark.anyio
async def test_many_callers_at_once_cause_one_broker_call_per_ttl(tmp_path: Path) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    await journal.open()
    now = [100.0]
    cache = AccountCache(await _registry(), journal, timeout=5, ttl=5, clock=lambda: now[0])
    try:
        answers = await asyncio.gather(*(cache.all_accounts() for _ in range(25)))
        assert CountingPaper.balance_calls == 1
        assert all(a["paper"]["balance"]["equity"] == 100_000 for a in answers)
        now[0] += 4.9
        await cache.all_accounts()
        assert CountingPaper.balance_calls == 1
        now[0] += 0.2
        await asyncio.gather(*(cache.all_accounts() for _ in range(5)))
        assert CountingPaper.balance_calls == 2
    finally:
        await journal.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": ADMIN["authorization"].split()[1],
        "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0, "prices": {"ETHUSDT": 2000}}},
        "sources": {"signed": {"risk": {"max_quantity": 1}}},
    }
    with TestClient(create_app(Settings.model_validate(config))) as running:
        yield running


def _send(client: TestClient, body: str) -> dict[str, Any]:
    raw = body.encode()
    answer = client.post("/webhook", content=raw, headers={
        **signature_headers(SECRET, raw), "content-type": "text/plain"})
    result: dict[str, Any] = answer.json()
    return result


def _wait_filled(client: TestClient, signal_id: str) -> None:
    for _ in range(200):
        if client.get(f"/api/signals/{signal_id}", headers=ADMIN).json()["status"] == "filled":
            return
        time.sleep(0.02)
    raise AssertionError(f"{signal_id} not filled")


def test_positions_show_the_balance_and_the_filled_symbols(client: TestClient) -> None:
    _wait_filled(client, _send(client, "buy 0.5 ETHUSDT")["signal_id"])
    answer = client.get("/api/positions", headers=ADMIN)
    assert answer.status_code == 200
    paper = answer.json()["plugins"]["paper"]
    assert paper["balance"]["currency"] == "USD"
    assert paper["positions"] == {"ETHUSDT": 0.5}
    assert paper["errors"] == []
    assert client.get("/api/positions").status_code == 401


def test_stats_count_statuses_fills_rejections_and_latency(client: TestClient) -> None:
    for body in ("buy 0.5 ETHUSDT", "buy 0.2 ETHUSDT"):
        _wait_filled(client, _send(client, body)["signal_id"])
    assert _send(client, "buy 3 ETHUSDT")["status"] == "rejected"
    stats = client.get("/api/stats", headers=ADMIN, params={"since": "1h"}).json()
    assert stats["signals"] == 3
    signed = stats["sources"]["signed"]
    assert signed["by_status"] == {"filled": 2, "rejected": 1}
    assert signed["fills"] == 2
    assert sum(signed["rejections"].values()) == 1
    assert "max_quantity" in next(iter(signed["rejections"]))
    latency = signed["alert_to_fill_ms"]
    assert latency["p50"] is not None and 0 <= latency["p50"] <= latency["p99"]
    assert stats["plugins"]["paper"]["fills"] == 2


def test_stats_since_the_future_count_nothing_and_a_bad_since_is_a_400(
    client: TestClient,
) -> None:
    _send(client, "buy 0.1 ETHUSDT")
    assert client.get("/api/stats", headers=ADMIN,
                      params={"since": "2999-01-01"}).json()["signals"] == 0
    bad = client.get("/api/stats", headers=ADMIN, params={"since": "last tuesday"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "since"


@pytest.fixture
def priced_client(tmp_path: Path) -> Iterator[TestClient]:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": ADMIN["authorization"].split()[1],
        "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0, "fee_rate": 0.001,
                              "ticks": {"ETHUSDT": 0.01}}},
    }
    with TestClient(create_app(Settings.model_validate(config))) as running:
        yield running


def test_stats_realise_fifo_pnl_fees_and_slippage_from_paper_fills(
    priced_client: TestClient,
) -> None:
    for body in ("buy 0.5 ETHUSDT price 2000", "sell 0.5 ETHUSDT price 2100"):
        _wait_filled(priced_client, _send(priced_client, body)["signal_id"])
    stats = priced_client.get("/api/stats", headers=ADMIN).json()
    paper = stats["plugins"]["paper"]
    bought, sold = 2000 * 1.0001, 2100 * 0.9999  # the paper plugin's 0.01% against the side
    assert paper["realised_pnl"] == pytest.approx((sold - bought) * 0.5)
    assert paper["fees"] == pytest.approx((bought + sold) * 0.5 * 0.001)
    assert paper["slippage_bps"]["mean"] == pytest.approx(1)
    assert paper["slippage_ticks"]["p99"] == pytest.approx(21)  # 2100 * 0.0001 / 0.01
    assert [f["side"] for f in stats["fills"]] == ["buy", "sell"]
    assert stats["fills"][1]["alert_price"] == 2100
    assert stats["pnl_curve"][-1]["pnl"] == pytest.approx(paper["net_pnl"])
    assert stats["open_lots"] == []
    assert sum(b["count"] for b in stats["latency_histogram"]) == 2


def test_stats_until_leaves_later_signals_out_and_must_follow_since(
    priced_client: TestClient,
) -> None:
    _wait_filled(priced_client, _send(priced_client, "buy 0.5 ETHUSDT")["signal_id"])
    time.sleep(0.01)
    between = time.time()
    time.sleep(0.01)
    _wait_filled(priced_client, _send(priced_client, "buy 0.2 ETHUSDT")["signal_id"])
    until = datetime.fromtimestamp(between, UTC).isoformat()
    stats = priced_client.get("/api/stats", headers=ADMIN, params={"until": until}).json()
    assert stats["signals"] == 1
    assert stats["open_lots"][0]["quantity"] == 0.5
    backwards = priced_client.get("/api/stats", headers=ADMIN,
                                  params={"since": "2026-01-02", "until": "2026-01-01"})
    assert backwards.status_code == 400
    assert backwards.json()["field"] == "until"


def test_several_dashboards_polling_positions_cause_one_broker_call(
    priced_client: TestClient, monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    real = MockPlugin.fetch_balance

    async def counted(plugin: MockPlugin) -> AccountBalance:
        calls.append(plugin.name)
        await asyncio.sleep(0.05)  # a slow broker: the other pages ask meanwhile
        return await real(plugin)

    monkeypatch.setattr(MockPlugin, "fetch_balance", counted)
    with ThreadPoolExecutor(max_workers=6) as pages:
        answers = list(pages.map(
            lambda _: priced_client.get("/api/positions", headers=ADMIN), range(6 * 3)))
    assert {a.status_code for a in answers} == {200}
    assert calls == ["paper"]


@pytest.mark.anyio
async def test_while_every_plugin_is_fresh_the_journal_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    await journal.open()
    reads = []
    real = journal.list_signals

    async def counted(**query: Any) -> Any:
        reads.append(query)
        return await real(**query)

    monkeypatch.setattr(journal, "list_signals", counted)
    now = [100.0]
    cache = AccountCache(await _registry(), journal, timeout=5, ttl=5, clock=lambda: now[0])
    try:
        await cache.all_accounts()
        now[0] += 4
        for _ in range(10):
            await cache.all_accounts()
        assert len(reads) == 1
        now[0] += 2
        await cache.all_accounts()
        assert len(reads) == 2
    finally:
        await journal.close()
