"""End to end on the fake OKX swaps account: a trailing stop held at the exchange. The stop is
a reduce-only trigger there, moved new-first as the price rises; after kill -9 and a restart
the exchange holds exactly one stop for the position, and that stop, not tradehook, closes it,
counted at the fake."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.server import RunningServer, start_server, wait_until
from tests.e2e.test_ccxt_okx import CONFIG, ENV, INST, live_algos
from tests.fakes.okx import FakeOkx

pytestmark = pytest.mark.e2e

EXITS_CONFIG = CONFIG + """
[execution]
retry_base_delay = 0.05
exits_interval = 0.1
"""


@pytest.fixture
def fake() -> Iterator[FakeOkx]:
    exchange = FakeOkx()
    exchange.start()
    yield exchange
    exchange.stop()


def stops(fake: FakeOkx) -> list[Decimal]:
    """The live stops' trigger prices (two for a moment while one is moved: new first)."""
    return [Decimal(str(algo["slTriggerPx"])) for algo in live_algos(fake)]


def one_stop_at_least(fake: FakeOkx, price: int) -> bool:
    held = stops(fake)
    return len(held) == 1 and held[0] >= price


def placed(fake: FakeOkx) -> int:
    return sum(path == "/api/v5/trade/order-algo" for _, path, _ in fake.requests)


def enter(server: RunningServer) -> str:
    body: dict[str, Any] = {"symbol": "OKX:BTCUSDT.P", "side": "buy", "quantity": 0.02,
                            "exits": {"trailing_stop": {"amount": 500}}}
    return server.filled(body)


def test_a_trailing_stop_held_at_okx_survives_kill_9_as_one_stop(
    fake: FakeOkx, tmp_path: Any
) -> None:
    config = EXITS_CONFIG.replace("URL", fake.url)
    first = start_server(tmp_path, config_toml=config, env=ENV)
    try:
        entry = enter(first)
        wait_until(lambda: one_stop_at_least(fake, 59000))
        [initial] = stops(fake)
        fake.move_price(INST, Decimal(61000))
        wait_until(lambda: one_stop_at_least(fake, 60500))
        [moved] = stops(fake)
    finally:
        first.kill()
    before_restart = placed(fake)
    port = int(first.url.rsplit(":", 1)[1])
    second = start_server(tmp_path, config_toml=config, env=ENV, port=port)
    try:
        wait_until(lambda: second.signal(entry)["exit_plan"]["state"] == "active")
        fake.move_price(INST, Decimal(61200))  # the restarted manager moves the same stop
        wait_until(lambda: one_stop_at_least(fake, 60700))
        assert placed(fake) == before_restart + 1  # the start's resend of the stop sent nothing
        assert fake.positions[INST] == 2

        fake.move_price(INST, Decimal(60000))  # the exchange's stop closes the position
        wait_until(lambda: fake.positions[INST] == 0)
        wait_until(lambda: second.signal(entry)["exit_plan"]["state"] == "closed")
        closes = [o.cl_ord_id for o in fake.orders if o.cl_ord_id != entry]
        assert [c.startswith("algo") for c in closes] == [True]  # the stop's; none of ours
        assert live_algos(fake) == []
    finally:
        second.stop()
    assert initial < moved
