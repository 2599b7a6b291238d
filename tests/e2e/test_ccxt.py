"""End to end: `tradehook serve` with a ccxt plugin pointed at the fake Binance exchange."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import RunningServer, start_server
from tests.fakes import binance
from tests.fakes.binance import Failure, FakeBinance

pytestmark = pytest.mark.e2e

CONFIG = """
default_plugin = "exchange"

[plugins.exchange]
type = "ccxt"
exchange = "binance"
api_key_env = "E2E_BINANCE_KEY"
secret_env = "E2E_BINANCE_SECRET"
api_host = "{url}"
rate_limit = false
timeout = 1.5
"""


@pytest.fixture(scope="module")
def exchange() -> Iterator[FakeBinance]:
    fake = FakeBinance()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def server(
    exchange: FakeBinance, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    running = start_server(
        tmp_path_factory.mktemp("serve-ccxt"),
        config_toml=CONFIG.format(url=exchange.url),
        env={"E2E_BINANCE_KEY": binance.API_KEY, "E2E_BINANCE_SECRET": binance.SECRET},
    )
    yield running
    running.stop()


def test_one_signed_alert_becomes_one_order_on_the_exchange(
    server: RunningServer, exchange: FakeBinance
) -> None:
    answer = server.post_signed("buy 0.01 BINANCE:BTCUSDT")
    assert answer.status_code == 202, answer.text
    signal_id = answer.json()["signal_id"]

    record = server.wait_for_signal(signal_id)

    placed = [o for o in exchange.orders if signal_id in o.client_order_id]
    assert len(placed) == 1
    assert placed[0].params["newClientOrderId"] == signal_id
    assert (placed[0].params["side"], placed[0].params["quantity"]) == ("BUY", "0.01")
    assert record["status"] == "filled"
    assert record["plugin"] == "exchange"
    assert record["result"]["order_id"] == str(placed[0].order_id)
    assert record["result"]["client_order_id"] == signal_id
    assert record["result"]["filled_quantity"] == pytest.approx(0.01)
    assert record["result"]["average_price"] == pytest.approx(60006.0)


def test_a_timeout_after_the_exchange_took_the_order_is_reconciled_not_resent(
    server: RunningServer, exchange: FakeBinance
) -> None:
    exchange.fail_next(Failure.TIMEOUT_AFTER_ACCEPT)
    answer = server.post_signed("buy 0.02 BTCUSDT")
    signal_id = answer.json()["signal_id"]

    record = server.wait_for_signal(signal_id)

    [placed] = [o for o in exchange.orders if signal_id in o.client_order_id]
    assert record["status"] == "filled"
    assert [a["outcome"] for a in record["attempts"]] == ["reconciled"]
    assert record["result"]["order_id"] == str(placed.order_id)


def test_an_order_below_the_exchange_minimum_is_rejected_with_the_numbers(
    server: RunningServer, exchange: FakeBinance
) -> None:
    answer = server.post_signed("buy 0.00005 BTCUSDT")
    signal_id = answer.json()["signal_id"]

    record = server.wait_for_signal(signal_id)

    assert record["status"] == "failed"
    assert record["result"]["status"] == "rejected"
    assert "below BTC/USDT's minimum of 5 USDT" in record["result"]["error"]
    assert not [o for o in exchange.orders if signal_id in o.client_order_id]


def test_ready_reports_the_exchange_healthy(server: RunningServer) -> None:
    answer = server.client().get("/ready")

    assert answer.status_code == 200, answer.text
    assert answer.json()["plugins"] == {"exchange": True}


def test_the_log_holds_no_exchange_credentials(server: RunningServer) -> None:
    assert binance.SECRET not in server.log
    assert binance.API_KEY not in server.log
