"""End to end: PineConnector's documented sample alerts, posted to `tradehook serve` with each
Target Type setting, reach the fake MT5 terminal with the stop where the EA would put it; a stop
on the wrong side of the market is refused before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.mt5_terminal import serve_with_terminal, terminal
from tests.e2e.server import RunningServer
from tests.fakes.mt5_server import FakeMT5Server

pytestmark = pytest.mark.e2e

__all__ = ["terminal"]  # a fixture used by name below
SAMPLE = "60123456789,sell,GBPJPY,sl=50,risk=1"
"""From PineConnector's syntax guide; the fake terminal quotes GBPJPY 190.112 / 190.131."""
CONFIG = """
default_plugin = "forex"

[sources.pc-price]
dialect = "pineconnector"

[sources.pc-pips]
dialect = "pineconnector"
pineconnector = { target_type = "pips" }

[sources.pc-percent]
dialect = "pineconnector"
pineconnector = { target_type = "percent", pending_entry = "percent" }
"""


@pytest.fixture(scope="module")
def server(
    terminal: FakeMT5Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = serve_with_terminal(tmp_path_factory.mktemp("serve-pineconnector"), terminal,
                                  CONFIG)
    yield running
    running.stop()


def post(server: RunningServer, source: str, text: str) -> httpx.Response:
    url = server.run_cli("url", source, "--base", server.url).stdout.decode().strip()
    return httpx.post(url, content=text.encode(), headers={"content-type": "text/plain"},
                      timeout=10)


def sent_requests(terminal: FakeMT5Server) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = terminal.state()["requests"]
    return requests


def sent_for(server: RunningServer, terminal: FakeMT5Server, answer: httpx.Response
             ) -> dict[str, Any]:
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signal_id"]
    assert server.wait_for_signal(signal_id)["status"] == "filled"
    [request] = [r for r in sent_requests(terminal) if signal_id in r["comment"]]
    return request


def test_read_as_prices_the_sample_is_refused_and_nothing_is_sent(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    before = len(sent_requests(terminal))
    answer = post(server, "pc-price", SAMPLE)
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "sl"
    assert "target_type" in answer.json()["error"]
    assert len(sent_requests(terminal)) == before


def test_read_as_pips_the_samples_stop_is_fifty_pips_above_the_sell(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    request = sent_for(server, terminal, post(server, "pc-pips", SAMPLE))
    assert (request["symbol"], request["volume"]) == ("GBPJPY", 1.0)
    assert request["sl"] == pytest.approx(190.112 + 0.50)  # 50 pips of 0.01 from the bid


def test_read_as_percent_the_stop_is_that_share_above_the_sell(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    request = sent_for(server, terminal, post(server, "pc-percent",
                                              "60123456789,sell,GBPJPY,sl=1,risk=1"))
    assert request["sl"] == pytest.approx(192.013)  # 1% above the bid, to the symbol's digits


def test_explicit_pips_on_a_five_digit_pair_are_ten_points(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    request = sent_for(server, terminal, post(server, "pc-price",
                                              "60123456789,buy,EURUSD,vol_lots=0.1,sl_pips=12"))
    assert request["sl"] == pytest.approx(1.08512 - 0.0012)  # from the ask


def test_a_pending_entry_in_percent_is_placed_from_the_market(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    answer = post(server, "pc-percent", "60123456789,buylimit,GBPJPY,risk=1,price=1,sl=1")
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signal_id"]
    assert server.wait_for_signal(signal_id)["status"] == "placed"
    [request] = [r for r in sent_requests(terminal) if signal_id in r["comment"]]
    entry = 190.131 * 0.99  # 1% below the ask; the stop 1% below that entry
    assert request["price"] == pytest.approx(round(entry, 3))
    assert request["sl"] == pytest.approx(round(entry * 0.99, 3))


def test_the_documented_vol_dollar_sample_risks_fifty_dollars_at_the_stop(
    server: RunningServer, terminal: FakeMT5Server
) -> None:
    request = sent_for(server, terminal, post(server, "pc-price",
                                              "60123456789,sell,GBPJPY,vol_dollar=50,sl_pips=20"))
    lots = 50 / (0.20 / 0.001 * (100 / 190.112))  # 200 ticks of trade_tick_value per lot
    assert request["volume"] == pytest.approx(lots, abs=0.01)  # to the 0.01 volume step
    assert request["sl"] == pytest.approx(190.112 + 0.20)
