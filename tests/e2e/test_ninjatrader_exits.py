"""End to end: a trailing stop on NinjaTrader through the DLL (the C# stand-in on Mono, talking
to the simulated ATI socket), from `tradehook serve`: the stop is one STOPMARKET order held by
NinjaTrader, moved with CHANGE as the price rises, found again after kill -9 rather than placed
twice, and filled by NinjaTrader when the price falls through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from plugins.ninjatrader.ati import order_id_for
from plugins.ninjatrader.stops import stop_order_id
from plugins.orders import OrderSide
from tests.e2e.server import RunningServer, start_server, wait_until
from tests.e2e.test_ninjatrader import DLL, DLL_ENV, ES, handed, held, kill_and_start_again
from tests.fakes.ninjatrader_ati import AtiServer
from tests.plugins.ninjatrader_fixtures import client_dll
from webhook.journal.exit_plans import exit_child_id

__all__ = ["client_dll"]  # a fixture used by name below

pytestmark = pytest.mark.e2e

CONFIG = """
default_plugin = "futures"

[execution]
retry_base_delay = 0.05
exits_interval = 0.1

[plugins.futures]
type = "ninjatrader"
account = "Sim101"
fill_timeout = 2.0
instruments = { "ES1!" = "ES 12-25" }
"""
STOP_ID = stop_order_id("Sim101", ES, OrderSide.BUY, 1)


@pytest.fixture
def ati() -> Iterator[AtiServer]:
    with AtiServer() as server:
        yield server


def stop_price(ati: AtiServer) -> float | None:
    order = ati.sim.orders.get(STOP_ID)
    return order.stop if order is not None and order.state == "ACCEPTED" else None


def enter(server: RunningServer) -> str:
    body = {"symbol": "ES1!", "side": "buy", "quantity": 2,
            "exits": {"trailing_stop": {"amount": 5}}}  # fmt: skip
    return server.filled(body)


def test_the_trailing_stop_is_held_by_ninjatrader_and_survives_kill_9(
    tmp_path: Path, ati: AtiServer, client_dll: Path
) -> None:
    config = CONFIG + DLL.format(client_dll.as_posix(), ati.port)
    first = start_server(tmp_path / "serve", config_toml=config, env=DLL_ENV)
    try:
        entry = enter(first)  # filled at 5000: the stop trails 5 behind
        wait_until(lambda: stop_price(ati) == 4995)
        ati.sim.set_price(ES, 5010)
        wait_until(lambda: stop_price(ati) == 5005)
    finally:
        second = kill_and_start_again(first, config, **DLL_ENV)
    try:
        ati.sim.set_price(ES, 5012)
        wait_until(lambda: stop_price(ati) == 5007, timeout=30)
        assert handed(ati.sim)[STOP_ID] == 1  # found again, moved, never placed twice
        ati.sim.set_price(ES, 5006)  # NinjaTrader's stop closes the position
        wait_until(lambda: held(ati.sim, ES) == 0)
        wait_until(lambda: second.signal(entry)["exit_plan"]["state"] == "closed", timeout=30)
        closes = handed(ati.sim)[order_id_for(exit_child_id(entry, "stop"))]
        assert closes == 0 and len(handed(ati.sim, "CLOSEPOSITION")) == 0  # none beside it
    finally:
        second.stop()
    assert ati.sim.orders[STOP_ID].state == "FILLED"
