"""End to end: `tradehook serve` with a ccxt plugin pointed at the fake Binance, Kraken and Bybit
exchanges, including kill -9 with an order in flight (OKX: test_ccxt_okx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import RunningServer, killed_and_restarted, start_server, wait_until
from tests.fakes import binance, bybit, kraken
from tests.fakes.binance import Failure, FakeBinance
from tests.fakes.bybit import FakeBybit
from tests.fakes.kraken import FakeKraken

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


def test_the_admin_api_shows_what_the_exchange_guarantees(server: RunningServer) -> None:
    (plugin,) = server.admin_get("/api/plugins").json()["plugins"]
    details = plugin["description"]["details"]
    assert details["exchange"] == "binance"
    assert details["guarantees"]["unique_among"] == "open orders"
    assert plugin["capabilities"]["lookup_by_client_order_id"] is True


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


def test_an_order_the_engine_carries_out_after_an_unknown_answer_is_found_not_resent(
    server: RunningServer, exchange: FakeBinance
) -> None:
    exchange.answer_delay = 0.5
    exchange.fail_next(Failure.LATE_EXECUTION)
    try:
        signal_id = server.post_signed("buy 0.03 BTCUSDT").json()["signal_id"]
        record = server.wait_for_signal(signal_id, timeout=30)
    finally:
        exchange.answer_delay = 3.0

    placed = [o for o in exchange.orders if signal_id in o.client_order_id]
    outcomes = [a["outcome"] for a in record["attempts"]]
    assert len(placed) == 1
    assert record["status"] == "filled"
    assert "lookup_failed" in outcomes and outcomes[-1] == "reconciled"


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
    admin = {"authorization": f"Bearer {server.admin_token}"}
    answer = server.client().get("/ready", headers=admin)

    assert answer.status_code == 200, answer.text
    assert answer.json()["plugins"] == {"exchange": True}


def test_the_log_holds_no_exchange_credentials(server: RunningServer) -> None:
    assert binance.SECRET not in server.log
    assert binance.API_KEY not in server.log


UNTRUSTED_CONFIG = """
default_plugin = "exchange"

[plugins.exchange]
type = "ccxt"
exchange = "{exchange}"
api_key_env = "E2E_KEY"
secret_env = "E2E_SECRET"
market_type = "{market_type}"
api_host = "{url}"
rate_limit = false
timeout = 1.5
"""
UNTRUSTED = {  # exchange: its fake, market type, credentials, and a symbol it lists
    "kraken": (FakeKraken, "spot", {"E2E_KEY": kraken.API_KEY, "E2E_SECRET": kraken.SECRET},
               "KRAKEN:BTCUSD"),
    "bybit": (FakeBybit, "swap", {"E2E_KEY": bybit.API_KEY, "E2E_SECRET": bybit.SECRET},
              "BYBIT:BTCUSDT.P"),
}  # fmt: skip


def test_kill_9_with_a_binance_order_in_flight_gives_exactly_one_order(
    tmp_path: Path,
) -> None:
    fake = FakeBinance()
    fake.start()
    fake.order_latency = 2.0  # carried out 1 s after it arrives, answered 1 s later
    env = {"E2E_BINANCE_KEY": binance.API_KEY, "E2E_BINANCE_SECRET": binance.SECRET}
    config = CONFIG.format(url=fake.url).replace("timeout = 1.5", "timeout = 5")
    try:
        first = start_server(tmp_path, config_toml=config, env=env)
        signal_id = first.post_signed("buy 0.01 BTCUSDT").json()["signal_id"]
        wait_until(lambda: bool(fake.requests_to("POST", "/api/v3/order")))
        record = killed_and_restarted(first, config, env, signal_id)
    finally:
        fake.stop()

    placed = [o for o in fake.orders if o.client_order_id == signal_id]
    assert len(placed) == 1
    assert record["status"] == "filled"
    assert record["attempts"][-1]["outcome"] == "reconciled"


@pytest.mark.parametrize("exchange", sorted(UNTRUSTED))
def test_kill_9_where_lookups_are_not_trusted_leaves_the_order_for_a_person_not_resent(
    tmp_path: Path, exchange: str
) -> None:
    fake_type, market_type, env, symbol = UNTRUSTED[exchange]
    fake = fake_type()
    fake.start()
    fake.answer_delay = 3.0
    config = UNTRUSTED_CONFIG.format(exchange=exchange, market_type=market_type, url=fake.url)
    try:
        first = start_server(tmp_path, config_toml=config, env=env)
        signal_id = first.post_signed(f"buy 0.01 {symbol}").json()["signal_id"]
        wait_until(lambda: bool(fake.orders))
        record = killed_and_restarted(first, config, env, signal_id)
    finally:
        fake.stop()

    assert len(fake.orders) == 1
    assert record["status"] == "unknown"
    assert "cannot look up orders" in record["attempts"][-1]["error"]


def test_check_warns_where_the_exchange_guarantees_less(tmp_path: Path) -> None:
    fake = FakeKraken()
    fake.start()
    _, market_type, env, _ = UNTRUSTED["kraken"]
    config = UNTRUSTED_CONFIG.format(exchange="kraken", market_type=market_type, url=fake.url)
    try:
        server = start_server(tmp_path, config_toml=config, env=env)
        try:
            checked = server.run_cli("check", "--config", str(tmp_path / "tradehook.toml"))
        finally:
            server.stop()
    finally:
        fake.stop()
    output = checked.stdout.decode()
    assert checked.returncode == 0, output + checked.stderr.decode()
    assert "plugin exchange (ccxt): started, healthy" in output
    assert "plugin exchange (ccxt): warning:" in output
    assert "userref" in output
