"""End to end: `tradehook serve` with a ninjatrader plugin writing order instruction files to
the simulated NinjaTrader, which watches its incoming folder."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.e2e.server import RunningServer, start_server
from tests.fakes.ninjatrader_oif import OifPlatform

pytestmark = pytest.mark.e2e

ES = "ES 12-25"
CONFIG = """
default_plugin = "futures"

[execution]
retry_base_delay = 0.05

[plugins.futures]
type = "ninjatrader"
transport = "oif"
documents_dir = "{documents}"
account = "Sim101"
fill_timeout = 2.0
instruments = {{ "ES1!" = "{es}" }}
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OifPlatform]:
    with OifPlatform(tmp_path_factory.mktemp("documents") / "NinjaTrader 8") as running:
        yield running


@pytest.fixture(scope="module")
def server(
    platform: OifPlatform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    documents = platform.incoming.parent
    running = start_server(
        tmp_path_factory.mktemp("serve-ninjatrader"),
        config_toml=CONFIG.format(documents=documents.as_posix(), es=ES),
    )
    yield running
    running.stop()


def placed(platform: OifPlatform, signal_id: str) -> list[list[str]]:
    return [f for f in platform.sim.received if f[0] == "PLACE" and f[10] == f"TH{signal_id}"]


def test_one_signed_alert_becomes_one_order_in_ninjatrader(
    server: RunningServer, platform: OifPlatform
) -> None:
    body = {"symbol": "ES1!", "side": "buy", "quantity": 2, "stop_loss": 4990,
            "take_profit": 5020}  # fmt: skip
    answer = server.post_signed(json.dumps(body), content_type="application/json")
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signal_id"]

    record = server.wait_for_signal(signal_id)

    [entry] = placed(platform, signal_id)
    assert entry == ["PLACE", "Sim101", ES, "BUY", "2", "MARKET", "", "", "GTC", "",
                     f"TH{signal_id}", "", ""]  # fmt: skip
    legs = {o.order_id: o.state for o in platform.sim.orders.values()}
    assert (legs[f"TH{signal_id}-SL"], legs[f"TH{signal_id}-TP"]) == ("ACCEPTED", "WORKING")
    assert record["status"] == "filled"
    assert record["result"]["order_id"] == f"TH{signal_id}"
    assert record["result"]["filled_quantity"] == 2
    assert platform.torn == []


def test_ninjatrader_not_running_is_retried_and_fills_once_it_is(
    server: RunningServer, platform: OifPlatform
) -> None:
    platform.paused.set()
    answer = server.post_signed("sell 1 ES1!")
    signal_id = answer.json()["signal_id"]
    deadline = time.monotonic() + 10
    while not any(a["outcome"] == "temporary" for a in server.signal(signal_id)["attempts"]):
        assert time.monotonic() < deadline, "the first attempt never timed out"
        time.sleep(0.05)  # the instruction waited fill_timeout, then was withdrawn
    platform.paused.clear()

    record = server.wait_for_signal(signal_id)

    assert len(placed(platform, signal_id)) == 1
    assert record["status"] == "filled"
    assert any(a["outcome"] == "temporary" for a in record["attempts"])


def test_a_report_that_comes_late_is_reconciled_not_sent_again(
    server: RunningServer, platform: OifPlatform
) -> None:
    platform.report_delay = 2.5  # longer than fill_timeout: the plugin stops waiting first
    try:
        answer = server.post_signed("buy 3 ES1!")
        signal_id = answer.json()["signal_id"]
        record = server.wait_for_signal(signal_id)
    finally:
        platform.report_delay = 0.0

    assert len(placed(platform, signal_id)) == 1
    assert record["status"] == "filled"
    assert [a["outcome"] for a in record["attempts"]][-1] == "reconciled"
