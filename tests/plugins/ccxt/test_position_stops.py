"""A position's stop held at the exchange for managed exits (`move_position_stop`) on contract
markets, through ccxt's own client against the fake OKX and Bybit: a move places the new
reduce-only trigger before it cancels the old one, a restart finds the current stop from the
exchange's listing, and the sweep of orphaned triggers keeps it while the position is open."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.ccxt.position_stops import position_stop_id
from plugins.errors import NotSupported, OrderRejected
from plugins.orders import OrderSide
from tests.fakes.bybit import FakeBybit
from tests.fakes.okx import FakeOkx
from tests.plugins.ccxt.support import okx_config, order, started

pytestmark = pytest.mark.anyio

PERP = "OKX:BTCUSDT.P"
INST = "BTC-USDT-SWAP"
BYBIT_PERP = "BYBIT:BTCUSDT.P"


def live(fake: FakeOkx) -> list[dict[str, Any]]:
    return [a for a in fake.algo_orders if a["state"] == "live"]


def okx_calls(fake: FakeOkx) -> list[str]:
    """The algo requests in the order they came: placed (with the stop) or cancelled."""
    calls = []
    for method, path, payload in fake.requests:
        if path == "/api/v5/trade/order-algo" and method == "POST":
            calls.append(f"place {payload['slTriggerPx']}")
        elif path == "/api/v5/trade/cancel-algos":
            calls.append("cancel")
    return calls


async def long_position(plugin: CcxtPlugin, fake: FakeOkx) -> None:
    """A 3-contract (0.03 BTC) long at about 60000."""
    result = await plugin.execute_order(order(PERP, quantity=0.03))
    assert result.success, result.error
    assert fake.positions[INST] == 3


async def test_a_stop_is_placed_for_the_whole_position_and_moved_new_first(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await long_position(swaps, fake_okx)

    await swaps.move_position_stop(PERP, OrderSide.BUY, 59000)
    await swaps.move_position_stop(PERP, OrderSide.BUY, 59500)

    [stop] = live(fake_okx)
    assert (stop["side"], stop["sz"], stop["slTriggerPx"], stop["ordType"]) == (
        "sell", "3", "59500", "conditional")  # fmt: skip
    assert str(stop["reduceOnly"]).lower() == "true"
    assert okx_calls(fake_okx) == ["place 59000", "place 59500", "cancel"]
    assert fake_okx.move_price(INST, Decimal(59400)) == [stop]
    assert fake_okx.positions[INST] == 0


async def test_a_repeated_stop_sends_nothing(swaps: CcxtPlugin, fake_okx: FakeOkx) -> None:
    await long_position(swaps, fake_okx)
    await swaps.move_position_stop(PERP, OrderSide.BUY, 59000)

    await swaps.move_position_stop(PERP, OrderSide.BUY, 59000)

    assert okx_calls(fake_okx) == ["place 59000"]


async def test_a_restart_finds_the_current_stop_at_the_exchange(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await long_position(swaps, fake_okx)
    await swaps.move_position_stop(PERP, OrderSide.BUY, 59000)
    await swaps.close()

    again = await started(okx_config(fake_okx))  # its start sweeps orphans: the stop stays
    try:
        await again.move_position_stop(PERP, OrderSide.BUY, 59000)
        assert okx_calls(fake_okx) == ["place 59000"]
        await again.move_position_stop(PERP, OrderSide.BUY, 59200)
    finally:
        await again.close()

    [stop] = live(fake_okx)
    assert stop["slTriggerPx"] == "59200"
    assert okx_calls(fake_okx) == ["place 59000", "place 59200", "cancel"]


async def test_a_stop_left_behind_by_a_crash_mid_move_is_cancelled_by_the_next_move(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await long_position(swaps, fake_okx)
    await swaps.move_position_stop(PERP, OrderSide.BUY, 59000)
    [first] = live(fake_okx)
    market = swaps.market_for(PERP)
    assert market is not None
    newer = first | {"algoId": "9999", "slTriggerPx": "59100",
                     "algoClOrdId": position_stop_id(market, 2)}
    fake_okx.algo_orders.append(newer)  # placed by a process killed before it cancelled

    await swaps.move_position_stop(PERP, OrderSide.BUY, 59100)

    assert live(fake_okx) == [newer]
    assert okx_calls(fake_okx) == ["place 59000", "cancel"]


async def test_the_sweep_cancels_the_stop_once_the_position_is_flat(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    await long_position(swaps, fake_okx)
    await swaps.move_position_stop(PERP, OrderSide.BUY, 59000)
    sweeper = swaps._started_sweeper()
    assert await sweeper.sweep() == []

    fake_okx.positions[INST] = Decimal(0)  # closed by hand on the website
    [cancelled] = await sweeper.sweep()

    assert live(fake_okx) == []
    assert cancelled.client_order_id is not None and "ps" in cancelled.client_order_id


async def test_a_stop_without_its_position_or_on_the_wrong_side_is_refused(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    with pytest.raises(OrderRejected, match="no open long position"):
        await swaps.move_position_stop(PERP, OrderSide.BUY, 59000)
    await long_position(swaps, fake_okx)
    with pytest.raises(OrderRejected, match="no open short position"):
        await swaps.move_position_stop(PERP, OrderSide.SELL, 61000)
    with pytest.raises(OrderRejected, match="must be below the last price 60000"):
        await swaps.move_position_stop(PERP, OrderSide.BUY, 60100)
    assert live(fake_okx) == []


async def test_a_short_positions_stop_is_a_buy_above_the_price(
    on_bybit: CcxtPlugin, fake_bybit: FakeBybit
) -> None:
    result = await on_bybit.execute_order(order(BYBIT_PERP, side="sell", quantity=0.02))
    assert result.success, result.error

    await on_bybit.move_position_stop(BYBIT_PERP, OrderSide.SELL, 61000)
    await on_bybit.move_position_stop(BYBIT_PERP, OrderSide.SELL, 60500)
    await on_bybit.move_position_stop(BYBIT_PERP, OrderSide.SELL, 60500)  # found: not sent

    assert len(fake_bybit.requests_to("/v5/order/create")) == 3  # the entry and two stops
    open_stops = [o for o in fake_bybit.orders if o.open]
    [stop] = open_stops
    assert (stop.side, stop.qty, stop.request["triggerPrice"]) == ("Buy", Decimal("0.02"), "60500")
    assert stop.request["reduceOnly"] is True
    assert on_bybit.capabilities.exit_parts["stop"] == "native"
    fake_bybit.move_price(Decimal(60600))
    assert fake_bybit.position == 0


async def test_spot_keeps_the_stop_in_tradehook(spot: CcxtPlugin) -> None:
    assert spot.capabilities.position_stop is False
    assert spot.capabilities.exit_parts["stop"] == "managed"
    with pytest.raises(NotSupported):
        await spot.move_position_stop("BTCUSDT", OrderSide.BUY, 50000)


async def test_an_entry_with_exits_leaves_its_stop_loss_to_the_position_stop(
    swaps: CcxtPlugin, fake_okx: FakeOkx
) -> None:
    # The stop-loss is the plan's first stop, which the exits manager places right after the
    # fill: attached to the entry too, it would stay behind when the plan moves its stop.
    entry = order(PERP, quantity=0.03, stop_loss=59000,
                  exits={"trailing_stop": {"amount": 500}})
    result = await swaps.execute_order(entry)
    assert result.success, result.error
    assert live(fake_okx) == []
    [sent] = [p for m, path, p in fake_okx.requests if path == "/api/v5/trade/order"]
    assert "attachAlgoOrds" not in sent

    found = await swaps.lookup_order(entry.client_order_id or "", PERP, entry)
    assert found is not None and live(fake_okx) == []  # nor placed after a restart
    await swaps.move_position_stop(PERP, OrderSide.BUY, 59000)
    assert [a["slTriggerPx"] for a in live(fake_okx)] == ["59000"]
