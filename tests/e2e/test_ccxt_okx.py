"""End to end on the fake OKX swaps account: `tradehook serve` killed with -9 while an order's
answer is still on its way, then started again on the same journal. Exactly one order per
signal, and the position it opened has its stop-loss and take-profit after the restart."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import killed_and_restarted, start_server, wait_until
from tests.fakes import okx
from tests.fakes.okx import FakeOkx, OkxFailure

pytestmark = pytest.mark.e2e

CONFIG = """
default_plugin = "exchange"

[plugins.exchange]
type = "ccxt"
exchange = "okx"
api_key_env = "E2E_OKX_KEY"
secret_env = "E2E_OKX_SECRET"
password_env = "E2E_OKX_PASSPHRASE"
market_type = "swap"
urls = { rest = "URL" }
rate_limit = false
timeout = 5
"""
ENV = {"E2E_OKX_KEY": okx.API_KEY, "E2E_OKX_SECRET": okx.SECRET,
       "E2E_OKX_PASSPHRASE": okx.PASSPHRASE}  # fmt: skip
INST = "BTC-USDT-SWAP"


@pytest.fixture
def fake() -> Iterator[FakeOkx]:
    exchange = FakeOkx()
    exchange.start()
    exchange.answer_delay = 3.0  # the order is placed at once, its answer comes 3 s later
    yield exchange
    exchange.stop()


def live_algos(fake: FakeOkx) -> list[dict[str, Any]]:
    return [a for a in fake.algo_orders if a["state"] == "live"]


def killed_mid_order(fake: FakeOkx, workdir: Path, alert: str) -> tuple[str, dict[str, Any]]:
    """Send `alert` with its order's answer held back, kill -9 the server once the order is at
    the exchange, restart it; returns the signal id and its record once finished."""
    config = CONFIG.replace("URL", fake.url)
    first = start_server(workdir, config_toml=config, env=ENV)
    fake.fail_next(OkxFailure.TIMEOUT_AFTER_ACCEPT)
    signal_id = first.post_signed(alert).json()["signal_id"]
    wait_until(lambda: fake.order_by_client_id(signal_id) is not None)
    return signal_id, killed_and_restarted(first, config, ENV, signal_id)


def test_kill_9_with_a_bracketed_okx_entry_in_flight_gives_one_protected_order(
    fake: FakeOkx, tmp_path: Path
) -> None:
    signal_id, record = killed_mid_order(fake, tmp_path, "buy 0.02 OKX:BTCUSDT.P sl 59000 tp 61000")

    assert [o.cl_ord_id for o in fake.orders] == [signal_id]
    assert record["status"] == "filled"
    assert record["attempts"][-1]["outcome"] == "reconciled"
    assert fake.positions[INST] == 2
    [oco] = live_algos(fake)  # attached to the entry: OKX placed it when the entry filled
    assert (oco["ordType"], oco["side"], oco["sz"]) == ("oco", "sell", "2")
    assert (oco["slTriggerPx"], oco["tpTriggerPx"]) == ("59000", "61000")


def test_kill_9_with_a_bracketed_reverse_in_flight_protects_the_new_position_once(
    fake: FakeOkx, tmp_path: Path
) -> None:
    fake.positions[INST] = Decimal(5)  # a long held before, with its own stop-loss
    old = {"instId": INST, "side": "sell", "ordType": "conditional", "sz": "5",
           "slTriggerPx": "58000", "slOrdPx": "-1", "reduceOnly": "true", "state": "live",
           "algoClOrdId": "B" * 26 + "sl", "algoId": "1", "cTime": "0", "placedPx": "60000"}
    fake.algo_orders.append(old)  # fmt: skip

    alert = "reverse sell 0.02 OKX:BTCUSDT.P sl 61000 tp 59000"
    signal_id, record = killed_mid_order(fake, tmp_path, alert)

    assert [o.cl_ord_id for o in fake.orders] == [signal_id]
    assert record["status"] == "filled"
    assert fake.positions[INST] == -2
    [oco] = live_algos(fake)  # placed after the restart, by the lookup that found the reverse
    assert (oco["ordType"], oco["side"], oco["sz"]) == ("oco", "buy", "2")
    assert oco["algoClOrdId"] == f"{signal_id}oc"
    assert old["state"] == "canceled"
