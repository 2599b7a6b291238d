"""The mt5 plugin holds a position's protective stop as its stop-loss, moved with
TRADE_ACTION_SLTP (MQL5 book, "Modifying Stop Loss and/or Take Profit levels of a position"),
and the fake terminal closes the position when the bid reaches it."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.errors import OrderRejected
from plugins.orders import OrderSide
from tests.fakes import mt5_structures as c
from tests.plugins.mt5_fixtures import FakeMT5, fake_mt5, mt5_server, order, started_mt5

__all__ = ["fake_mt5", "mt5_server"]  # fixtures used by name below

pytestmark = pytest.mark.anyio


def sltp_requests(fake: FakeMT5) -> list[dict[str, Any]]:
    return [r for r in fake.state()["requests"] if r["action"] == c.TRADE_ACTION_SLTP]


async def test_the_stop_moves_keeps_the_take_profit_and_a_repeat_sends_nothing(
    fake_mt5: FakeMT5,
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(stop_loss=1.08, take_profit=1.09))
        await plugin.move_position_stop("EURUSD", OrderSide.BUY, 1.083)
        await plugin.move_position_stop("EURUSD", OrderSide.BUY, 1.083)

    (position,) = fake_mt5.state()["positions"]
    assert (position["sl"], position["tp"]) == (1.083, 1.09)
    (sent,) = sltp_requests(fake_mt5)
    assert (sent["position"], sent["symbol"]) == (position["ticket"], "EURUSD")


async def test_the_terminal_closes_the_position_at_its_moved_stop(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order())
        await plugin.move_position_stop("EURUSD", OrderSide.BUY, 1.084)
        fake_mt5.fake_set_tick("EURUSD", 1.0845, 1.08462)
        assert await plugin.fetch_position("EURUSD") == pytest.approx(0.1)
        fake_mt5.fake_set_tick("EURUSD", 1.0839, 1.08402)

        assert await plugin.fetch_position("EURUSD") == 0
    closing = fake_mt5.state()["deals"][-1]
    assert (closing["reason"], closing["price"]) == (c.DEAL_REASON_SL, 1.0839)


async def test_a_stop_inside_the_stops_level_is_refused_before_sending(
    fake_mt5: FakeMT5,
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order())
        with pytest.raises(OrderRejected, match=r"stops level \(10 points\), so at most 1.0849"):
            await plugin.move_position_stop("EURUSD", OrderSide.BUY, 1.08495)
        with pytest.raises(OrderRejected, match="no open short position in EURUSD"):
            await plugin.move_position_stop("EURUSD", OrderSide.SELL, 1.09)
    assert sltp_requests(fake_mt5) == []
