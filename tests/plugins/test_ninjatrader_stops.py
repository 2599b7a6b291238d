"""A position's stop on NinjaTrader: a STOPMARKET order held by the simulated platform, placed
and moved with CHANGE through the file interface and through the DLL (pythonnet on Mono)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.errors import OrderRejected, TemporaryError
from plugins.ninjatrader.stops import stop_order_id
from plugins.orders import Order, OrderSide
from tests.fakes.ninjatrader_ati import AtiServer
from tests.fakes.ninjatrader_oif import OifPlatform
from tests.fakes.ninjatrader_platform import SimOrder
from tests.plugins.ninjatrader_fixtures import (
    ES,
    SIGNAL_ID,
    ati_server,
    client_dll,
    dll_config,
    es_order,
    oif_config,
    platform,
    started_ninjatrader,
)
from tests.plugins.test_ninjatrader_oif import eventually

__all__ = ["ati_server", "client_dll", "platform"]  # fixtures used by name below

pytestmark = pytest.mark.anyio
LONG_STOP = stop_order_id("Sim101", ES, OrderSide.BUY, 1)
OTHER_ID = "01JDQ3F6Z8X2K9M4N7P5R0S1T3"


def stops(platform: OifPlatform) -> list[SimOrder]:
    """The platform's working stop orders."""
    return [o for o in platform.sim.working(ES) if o.order_type == "STOPMARKET"]


async def all_taken(platform: OifPlatform) -> None:
    """Until the platform has taken every instruction file (a CHANGE is not reported back)."""
    await eventually(lambda: not any(platform.incoming.glob("oif*.txt")))
    with platform.sim.lock:  # held while a file taken is executed
        return


def sent(platform: OifPlatform, command: str) -> list[list[str]]:
    return [f for f in platform.sim.received if f[0] == command]


async def test_the_stop_is_an_opposite_stopmarket_for_the_position_moved_with_change(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        assert plugin.capabilities.position_stop and not plugin.capabilities.quotes
        await plugin.execute_order(es_order())
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
        await plugin.move_position_stop(ES, OrderSide.BUY, 4995.5)
        await all_taken(platform)
    assert sent(platform, "PLACE")[-1] == [
        "PLACE", "Sim101", ES, "SELL", "2", "STOPMARKET", "", "4990", "GTC", "", LONG_STOP, "",
        "",
    ]  # fmt: skip
    assert sent(platform, "CHANGE") == [
        ["CHANGE", "", "", "", "2", "", "0", "4995.5", "", "", LONG_STOP, "", ""]
    ]
    [stop] = stops(platform)
    assert (stop.order_id, stop.action, stop.quantity, stop.stop) == (LONG_STOP, "SELL", 2, 4995.5)


async def test_a_repeat_sends_nothing_and_an_off_tick_stop_goes_away_from_the_market(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order())
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990.1)  # ES ticks are 0.25
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990.1)
    assert len(platform.sim.received) == 2  # the entry and the stop
    assert stops(platform)[0].stop == 4990.0


async def test_the_stop_fills_when_the_price_crosses_it_and_the_next_takes_a_new_id(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order())
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
        platform.sim.set_price(ES, 4989)
        assert platform.sim.position("Sim101", ES).quantity == 0
        await plugin.execute_order(es_order(client_order_id=OTHER_ID))
        await plugin.move_position_stop(ES, OrderSide.BUY, 4980)
    assert platform.sim.orders[LONG_STOP].state == "FILLED"
    [stop] = stops(platform)
    assert stop.order_id == stop_order_id("Sim101", ES, OrderSide.BUY, 2)


async def test_a_restart_finds_the_working_stop_and_moves_it_instead_of_placing_another(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order())
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
    async with started_ninjatrader(oif_config(platform)) as restarted:
        await restarted.move_position_stop(ES, OrderSide.BUY, 4990)  # its price is not known
        await restarted.move_position_stop(ES, OrderSide.BUY, 4992)
        await all_taken(platform)
    assert len(sent(platform, "PLACE")) == 2  # the entry and one stop
    assert [f[7] for f in sent(platform, "CHANGE")] == ["4990", "4992"]
    assert [(s.order_id, s.stop) for s in stops(platform)] == [(LONG_STOP, 4992)]


async def test_a_stop_on_the_wrong_side_is_rejected_by_ninjatrader_and_named(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order())
        with pytest.raises(OrderRejected, match="long position must be below the market"):
            await plugin.move_position_stop(ES, OrderSide.BUY, 5010)
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
    [stop] = stops(platform)
    assert stop.order_id == stop_order_id("Sim101", ES, OrderSide.BUY, 2)


async def test_a_change_to_the_wrong_side_is_refused_by_the_platform_and_the_stop_stays(
    platform: OifPlatform,
) -> None:
    # The file interface cannot see the refusal (its reports carry no prices): the platform's
    # log has it, and the stop keeps its price.
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order())
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
        await plugin.move_position_stop(ES, OrderSide.BUY, 5010)
        await all_taken(platform)
    assert "can't be placed above the market" in platform.sim.errors[-1]
    assert stops(platform)[0].stop == 4990


async def test_without_the_position_the_stop_is_refused_or_waits_for_its_report(
    platform: OifPlatform,
) -> None:
    async with started_ninjatrader(oif_config(platform)) as plugin:
        with pytest.raises(TemporaryError, match="has reported no position"):
            await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
        await plugin.execute_order(es_order())
        with pytest.raises(OrderRejected, match="no open short position"):
            await plugin.move_position_stop(ES, OrderSide.SELL, 5010)
    assert stops(platform) == []


async def test_a_partial_close_shrinks_the_stop_and_a_reverse_cancels_it(
    platform: OifPlatform,
) -> None:
    close_one = Order(symbol=ES, action="close", side="sell", quantity=1,
                      client_order_id=OTHER_ID)  # fmt: skip
    reverse = Order(symbol=ES, action="reverse", side="sell", quantity=1,
                    client_order_id="01JDQ3F6Z8X2K9M4N7P5R0S1T4")  # fmt: skip
    async with started_ninjatrader(oif_config(platform)) as plugin:
        await plugin.execute_order(es_order())
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
        await plugin.execute_order(close_one)
        await all_taken(platform)
        assert [s.quantity for s in stops(platform)] == [1]
        await plugin.execute_order(reverse)
        await all_taken(platform)
    assert stops(platform) == []
    assert platform.sim.orders[LONG_STOP].state == "CANCELLED"
    assert platform.sim.position("Sim101", ES).quantity == -1


async def test_an_entry_with_managed_exits_gets_its_stop_loss_as_the_position_stop(
    platform: OifPlatform,
) -> None:
    # Not as a bracket leg beside it: the exits then move this one stop (the exits manager
    # sends the plan's first stop again, which is a repeat).
    trailing = es_order(stop_loss=4990, exits={"trailing_stop": {"amount": 10}})
    async with started_ninjatrader(oif_config(platform)) as plugin:
        result = await plugin.execute_order(trailing)
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
    assert result.error is None
    assert [f[10] for f in sent(platform, "PLACE")][1:] == [LONG_STOP]
    assert [(s.order_id, s.quantity, s.stop) for s in stops(platform)] == [(LONG_STOP, 2, 4990)]


async def test_through_the_dll_the_stop_is_checked_against_the_bid_and_moved(
    ati_server: AtiServer, client_dll: Path
) -> None:
    buy = Order(symbol=ES, side="buy", quantity=2, client_order_id=SIGNAL_ID)
    async with started_ninjatrader(dll_config(ati_server, client_dll)) as plugin:
        assert plugin.capabilities.position_stop and plugin.capabilities.quotes
        await plugin.execute_order(buy)
        with pytest.raises(OrderRejected, match="must be below the bid 4999.75"):
            await plugin.move_position_stop(ES, OrderSide.BUY, 4999.75)
        before = len(ati_server.sim.handed)
        await plugin.move_position_stop(ES, OrderSide.BUY, 4990)
        await plugin.move_position_stop(ES, OrderSide.BUY, 4995)
        # the DLL's Command returns once it has written the CHANGE, not once it was read
        await eventually(lambda: len(ati_server.sim.handed) >= before + 2)
    assert [f[0] for f in ati_server.sim.handed[before:]] == ["PLACE", "CHANGE"]
    held = ati_server.sim.orders[LONG_STOP]
    assert (held.state, held.action, held.quantity, held.stop) == ("ACCEPTED", "SELL", 2, 4995)
