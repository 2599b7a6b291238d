"""End to end: `tradehook serve` fanning one alert out to two ccxt accounts on two fake
exchanges and a paper account, target positions, a missed alert, and kill -9 with children in
flight."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import RunningServer, killed_and_restarted, start_server, wait_until
from tests.fakes import binance
from tests.fakes.binance import FakeBinance
from webhook.auth.source_urls import make_source_token

pytestmark = pytest.mark.e2e

CONFIG = """
default_plugin = "paper"

[plugins.main]
type = "ccxt"
exchange = "binance"
api_key_env = "E2E_BINANCE_KEY"
secret_env = "E2E_BINANCE_SECRET"
api_host = "{main}"
rate_limit = false
timeout = {timeout}

[plugins.sub]
type = "ccxt"
exchange = "binance"
api_key_env = "E2E_BINANCE_KEY"
secret_env = "E2E_BINANCE_SECRET"
api_host = "{sub}"
rate_limit = false
timeout = {timeout}

[plugins.paper]
type = "mock"
delay_ms = 0

[plugins.paper.prices]
BTCUSDT = 60000
ESUSD = 5000

[account_groups.all]
main = {{ multiplier = 1 }}
sub = {{ multiplier = 0.5 }}
paper = {{ multiplier = 2 }}

[sources.signed]
plugin = "all"

[sources.strict]
plugin = "paper"
on_position_mismatch = "reject"

[sources.resync]
plugin = "paper"
on_position_mismatch = "resync"
"""
ENV = {"E2E_BINANCE_KEY": binance.API_KEY, "E2E_BINANCE_SECRET": binance.SECRET}


@pytest.fixture
def exchanges() -> Iterator[tuple[FakeBinance, FakeBinance]]:
    main, sub = FakeBinance(), FakeBinance()
    main.start()
    sub.start()
    yield main, sub
    main.stop()
    sub.stop()


def config_for(exchanges: tuple[FakeBinance, FakeBinance], timeout: float = 1.5) -> str:
    main, sub = exchanges
    return CONFIG.format(main=main.url, sub=sub.url, timeout=timeout)


@pytest.fixture
def server(
    exchanges: tuple[FakeBinance, FakeBinance], tmp_path: Path
) -> Iterator[RunningServer]:
    running = start_server(tmp_path, config_toml=config_for(exchanges), env=ENV, timeout=60)
    yield running
    running.stop()


def orders_for(fake: FakeBinance, client_order_id: str) -> list[Any]:
    return [o for o in fake.orders if o.client_order_id == client_order_id]


def from_source(server: RunningServer, source: str, alert: dict[str, str]) -> httpx.Response:
    token = make_source_token([server.secret], source)
    return httpx.post(f"{server.url}/webhook/{token}", content=json.dumps(alert).encode(),
                      headers={"content-type": "application/json"}, timeout=10)


def test_one_alert_becomes_one_order_per_account_with_its_multiplier(
    server: RunningServer, exchanges: tuple[FakeBinance, FakeBinance]
) -> None:
    main, sub = exchanges
    answer = server.post_signed("buy 0.02 BINANCE:BTCUSDT")
    assert answer.status_code == 202, answer.text
    parent = answer.json()["signal_id"]

    record = server.wait_for_signal(parent)

    assert record["status"] == "filled"
    [on_main] = orders_for(main, f"{parent}.1")
    [on_sub] = orders_for(sub, f"{parent}.2")
    assert (on_main.params["side"], on_main.params["quantity"]) == ("BUY", "0.02")
    assert (on_sub.params["side"], on_sub.params["quantity"]) == ("BUY", "0.01")
    assert len(main.orders) == len(sub.orders) == 1
    paper = record["children"][2]
    assert (paper["plugin"], paper["status"], paper["result"]["filled_quantity"]) == (
        "paper", "filled", 0.04)


def test_a_target_repeated_three_times_leaves_the_position_right_with_one_order(
    server: RunningServer,
) -> None:
    body = json.dumps({"symbol": "ESUSD", "action": "target", "target_position": -3,
                       "accounts": ["paper"]})
    records = [server.wait_for_signal(server.post_signed(body).json()["signal_id"])
               for _ in range(3)]

    # The paper account keeps its rule in the group the source routes to: multiplier 2.
    children = [record["children"][0] for record in records]
    assert [c["order"]["target_position"] for c in children] == [-6] * 3
    assert [c["result"]["filled_quantity"] for c in children] == [6, 0, 0]
    assert [c["status"] for c in children] == ["filled"] * 3
    positions = server.admin_get("/api/positions").json()
    assert positions["plugins"]["paper"]["positions"]["ESUSD"] == -6


MISSED = {"ticker": "ESUSD", "action": "buy", "contracts": "1", "market_position": "long",
          "market_position_size": "2", "prev_market_position": "long",
          "prev_market_position_size": "1"}


def test_a_missed_alert_is_rejected_or_resynced_as_its_source_says(
    server: RunningServer,
) -> None:
    refused = from_source(server, "strict", MISSED)
    assert refused.json()["status"] == "rejected", refused.text
    assert "position mismatch" in refused.json()["reason"]

    resynced = from_source(server, "resync", MISSED)
    record = server.wait_for_signal(resynced.json()["signal_id"])

    assert record["order"]["target_position"] == 2
    assert record["result"]["filled_quantity"] == 2
    assert "resync" in record["reason"]


def test_kill_9_with_children_in_flight_gives_each_exactly_one_order(
    exchanges: tuple[FakeBinance, FakeBinance], tmp_path: Path
) -> None:
    main, sub = exchanges
    main.order_latency = sub.order_latency = 2.0  # carried out 1 s after arriving, answered later
    config = config_for(exchanges, timeout=5)
    first = start_server(tmp_path, config_toml=config, env=ENV, timeout=60)
    parent = first.post_signed("buy 0.02 BTCUSDT").json()["signal_id"]
    wait_until(lambda: bool(main.requests_to("POST", "/api/v3/order"))
               and bool(sub.requests_to("POST", "/api/v3/order")))

    record = killed_and_restarted(first, config, ENV, parent)

    assert len(orders_for(main, f"{parent}.1")) == 1
    assert len(orders_for(sub, f"{parent}.2")) == 1
    assert [c["status"] for c in record["children"]] == ["filled"] * 3
    assert {c["attempts"][-1]["outcome"] for c in record["children"][:2]} == {"reconciled"}
