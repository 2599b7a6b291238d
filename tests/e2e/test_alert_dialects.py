"""End to end: TradersPost and PineConnector alerts posted to a signed TradingView URL become
the expected paper orders; the kill switch is engaged and released through the running API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import RunningServer, start_server

pytestmark = pytest.mark.e2e
FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"
CONFIG = """
[plugins.paper]
type = "mock"
delay_ms = 0
prices = { AAPL = 190.0 }  # the limit and bracket are checked against the market

[sources.tradingview]

[sources.guarded]
dialect = "pineconnector"
[sources.guarded.risk]
max_quantity = 2
allowed_symbols = ["EURUSD", "XAU*"]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("dialects"), config_toml=CONFIG)
    yield running
    running.stop()


def post_to_source(server: RunningServer, body: bytes, source: str = "tradingview",
                   content_type: str = "text/plain") -> httpx.Response:
    url = server.run_cli("url", source, "--base", server.url).stdout.decode().strip()
    assert url.startswith(server.url), url
    return httpx.post(url, content=body, headers={"content-type": content_type}, timeout=10)


def executed(server: RunningServer, answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 202, answer.text
    return server.wait_for_signal(answer.json()["signal_id"])


def test_traderspost_bracket_becomes_a_filled_limit_order_with_its_bracket(
    server: RunningServer,
) -> None:
    alert = json.loads((FIXTURES / "traderspost_buy_bracket.json").read_bytes())
    alert["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # sent as it fires
    body = json.dumps(alert).encode()
    record = executed(server, post_to_source(server, body, content_type="application/json"))
    assert record["dialect"] == "traderspost"
    order = record["order"]
    assert (order["symbol"], order["side"], order["order_type"], order["quantity"]) == (
        "AAPL", "buy", "limit", 10
    )
    assert (order["price"], order["stop_loss"], order["take_profit"]) == (
        191.25, 181.6875, 210.375
    )
    assert record["status"] == "filled"  # the paper price (100) is under the limit
    assert record["result"]["filled_quantity"] == 10
    assert record["sizing"] == "10 units (the alert)"


def test_pineconnector_buy_then_closelong_open_and_flatten_a_paper_position(
    server: RunningServer,
) -> None:
    bought = executed(server, post_to_source(
        server, (FIXTURES / "pineconnector_buy.txt").read_bytes()
    ))
    assert bought["dialect"] == "pineconnector"
    assert (bought["order"]["side"], bought["order"]["quantity"]) == ("buy", 1)
    assert (bought["order"]["stop_loss"], bought["order"]["take_profit"]) == (1.075, 1.095)
    assert bought["status"] == "filled"

    closed = executed(server, post_to_source(
        server, (FIXTURES / "pineconnector_closelong.txt").read_bytes()
    ))
    assert (closed["order"]["action"], closed["order"]["side"]) == ("close", "sell")
    assert closed["status"] == "filled"
    assert closed["result"]["filled_quantity"] == 1  # exactly what the buy opened

    again = executed(server, post_to_source(
        server, (FIXTURES / "pineconnector_closelong.txt").read_bytes()
    ))
    assert again["status"] == "failed"  # nothing left to close
    assert "no open long position" in again["result"]["error"]


def test_traderspost_exit_closes_what_a_buy_opened(server: RunningServer) -> None:
    executed(server, post_to_source(
        server, b'{"ticker": "BTCUSD", "action": "buy", "sentiment": "bullish", "quantity": 3}',
        content_type="application/json",
    ))
    exit_body = (FIXTURES / "traderspost_exit.json").read_bytes()
    closed = executed(server, post_to_source(server, exit_body, content_type="application/json"))
    assert closed["order"]["action"] == "close"
    assert closed["result"]["filled_quantity"] == 3


def test_source_risk_rules_reject_with_the_rule_and_numbers(server: RunningServer) -> None:
    too_big = post_to_source(server, b"1,buy,EURUSD,risk=2.5", source="guarded")
    assert too_big.status_code == 200
    assert too_big.json()["status"] == "rejected"
    assert too_big.json()["reason"] == (
        "sources.guarded.risk.max_quantity: quantity 2.5 EURUSD is over the limit of 2"
    )
    elsewhere = post_to_source(server, b"1,buy,GBPUSD,risk=1", source="guarded")
    assert elsewhere.json()["rule"] == "sources.guarded.risk.allowed_symbols"
    assert executed(server, post_to_source(server, b"1,buy,XAUUSD,risk=2", source="guarded"))[
        "status"] == "filled"


def kill_switch(server: RunningServer, **body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/api/kill-switch", json=body, timeout=10,
                      headers={"authorization": f"Bearer {server.admin_token}"})


def test_kill_switch_on_and_off_through_the_api_and_across_a_restart(tmp_path: Path) -> None:
    running = start_server(tmp_path, config_toml=CONFIG)
    try:
        assert kill_switch(running, engaged=True, reason="e2e").json()["engaged"] is True
        refused = running.post_signed("buy 1 EURUSD")
        assert refused.status_code == 200
        assert refused.json()["status"] == "rejected"
        assert refused.json()["reason"].startswith("kill_switch: engaged by the admin API")
        assert running.signal(refused.json()["signal_id"])["status"] == "rejected"
    finally:
        running.stop()
    running = start_server(tmp_path, config_toml=CONFIG)
    try:
        state = running.admin_get("/api/kill-switch").json()
        assert (state["engaged"], state["reason"]) == (True, "e2e")
        assert running.post_signed("buy 1 EURUSD").json()["status"] == "rejected"
        assert kill_switch(running, engaged=False).json()["engaged"] is False
        accepted = running.post_signed("buy 1 EURUSD")
        assert accepted.status_code == 202
        assert running.wait_for_signal(accepted.json()["signal_id"])["status"] == "filled"
    finally:
        running.stop()
