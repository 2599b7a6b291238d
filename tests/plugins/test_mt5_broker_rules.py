"""The mt5 plugin against the trade server's rules: filling modes per execution mode, the tick
grid, stops levels, expiry, partial fills, netting accounts and quotes not yet arrived.

The fake refuses as tests/fakes/mt5_rules.py documents; each test counts the requests the fake
received, so a refusal "before sending" is one the broker never saw.
"""

from __future__ import annotations

from typing import Any

import pytest

from plugins.errors import OrderRejected
from plugins.orders import ExecutionStatus, Order
from tests.fakes import mt5_structures as c
from tests.plugins.mt5_fixtures import (
    SIGNAL_ID,
    FakeMT5,
    fake_mt5,
    mt5_server,
    order,
    started_mt5,
)

__all__ = ["fake_mt5", "mt5_server"]  # fixtures used by name below

pytestmark = pytest.mark.anyio


def requests(fake: FakeMT5) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = fake.state()["requests"]
    return sent


async def test_instant_execution_takes_fill_or_kill_whatever_the_flags_say(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set_symbol("GBPUSD", filling_mode=c.SYMBOL_FILLING_IOC)
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order(symbol="GBPUSD"))
    assert [r["type_filling"] for r in requests(fake_mt5)] == [c.ORDER_FILLING_FOK]
    assert result.status is ExecutionStatus.FILLED


async def test_market_execution_without_filling_flags_is_refused_before_sending(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set_symbol("EURUSD", filling_mode=0)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="EURUSD allows no filling mode.*Market execution"):
            await plugin.execute_order(order())
    assert requests(fake_mt5) == []


async def test_a_configured_filling_mode_the_symbol_forbids_is_refused_before_sending(
    fake_mt5: FakeMT5,
) -> None:
    async with started_mt5(fake_mt5, filling="return") as plugin:
        with pytest.raises(OrderRejected, match="filling = 'return' is not allowed on EURUSD"):
            await plugin.execute_order(order())
    assert requests(fake_mt5) == []


async def test_invalid_fill_is_sent_once_more_with_the_next_allowed_mode(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_refuse_next(c.TRADE_RETCODE_INVALID_FILL)
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order())
    assert [r["type_filling"] for r in requests(fake_mt5)] == [
        c.ORDER_FILLING_FOK, c.ORDER_FILLING_IOC
    ]  # fmt: skip
    assert result.status is ExecutionStatus.FILLED and len(fake_mt5.state()["deals"]) == 1


async def test_invalid_fill_with_no_other_mode_is_refused_after_one_request(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_refuse_next(c.TRADE_RETCODE_INVALID_FILL)
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="INVALID_FILL"):
            await plugin.execute_order(order(symbol="GBPUSD"))
    assert len(requests(fake_mt5)) == 1


async def test_prices_and_stops_are_rounded_to_the_tick_size(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order(
            symbol="US500", quantity=1, order_type="limit", price=4990.1, stop_loss=4980.37,
            take_profit=5010.6,
        ))  # fmt: skip
    [sent] = requests(fake_mt5)
    assert (sent["price"], sent["sl"], sent["tp"]) == (4990.0, 4980.25, 5010.5)
    assert result.status is ExecutionStatus.PLACED


async def test_a_stop_loss_inside_the_stops_level_is_refused_naming_the_level(
    fake_mt5: FakeMT5,
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match=r"stop_loss 1.08495 .*stops level \(10 points\)"):
            await plugin.execute_order(order(stop_loss=1.08495))
    assert requests(fake_mt5) == []


async def test_a_stop_loss_on_the_wrong_side_is_refused_before_sending(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="take_profit 1.08 must be above"):
            await plugin.execute_order(order(take_profit=1.08))
    assert requests(fake_mt5) == []


async def test_a_pending_price_inside_the_stops_level_is_refused_before_sending(
    fake_mt5: FakeMT5,
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="buy limit at 1.08505 must be below the market"):
            await plugin.execute_order(order(order_type="limit", price=1.08505))
    assert requests(fake_mt5) == []


async def test_day_orders_on_a_symbol_without_day_expiry_are_refused_before_sending(
    fake_mt5: FakeMT5,
) -> None:
    async with started_mt5(fake_mt5) as plugin:
        with pytest.raises(OrderRejected, match="US500 does not take day orders"):
            await plugin.execute_order(order(
                symbol="US500", quantity=1, order_type="limit", price=4990, time_in_force="day"
            ))  # fmt: skip
    assert requests(fake_mt5) == []


@pytest.mark.parametrize("retcode", [c.TRADE_RETCODE_DONE_PARTIAL, c.TRADE_RETCODE_DONE])
async def test_an_ioc_order_that_fills_partly_is_partially_filled(
    fake_mt5: FakeMT5, retcode: int
) -> None:
    """The server may say DONE_PARTIAL, or DONE with the smaller volume: both are partial."""
    fake_mt5.fake_set_symbol("XAUUSD", liquidity=0.4)
    fake_mt5.fake_set(partial_retcode=retcode)
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order(symbol="XAUUSD", quantity=1))
        found = await plugin.lookup_order(SIGNAL_ID)
    assert result.status is ExecutionStatus.PARTIALLY_FILLED
    assert result.filled_quantity == pytest.approx(0.4)
    assert found is not None and found.status is ExecutionStatus.PARTIALLY_FILLED


async def test_a_close_that_fills_partly_is_partially_filled(fake_mt5: FakeMT5) -> None:
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(symbol="XAUUSD", quantity=1))
        fake_mt5.fake_set_symbol("XAUUSD", liquidity=0.3)
        result = await plugin.execute_order(
            Order(symbol="XAUUSD", action="close", client_order_id="close1")
        )
    assert result.status is ExecutionStatus.PARTIALLY_FILLED
    assert result.filled_quantity == pytest.approx(0.3)
    assert fake_mt5.net_position("XAUUSD") == pytest.approx(0.7)


async def test_a_symbol_selected_a_moment_ago_is_traded_at_its_first_real_quote(
    fake_mt5: FakeMT5,
) -> None:
    fake_mt5.fake_set_symbol("GBPUSD", empty_ticks=2)
    async with started_mt5(fake_mt5) as plugin:
        result = await plugin.execute_order(order(symbol="GBPUSD"))
    [sent] = requests(fake_mt5)
    assert sent["price"] == 1.26415 and result.status is ExecutionStatus.FILLED


async def test_on_a_netting_account_a_reverse_flips_the_one_position(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_reset(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(quantity=0.3, client_order_id="open"))
        await plugin.execute_order(order(quantity=0.2, client_order_id="more"))
        result = await plugin.execute_order(Order(
            symbol="EURUSD", action="reverse", side="sell", quantity=0.1, client_order_id="rev"
        ))  # fmt: skip
        first = await plugin.lookup_order("open")
        net = await plugin.fetch_position("EURUSD")
    assert len(fake_mt5.state()["positions"]) == 1 and net == pytest.approx(-0.1)
    assert result.filled_quantity == pytest.approx(0.6)
    assert first is not None and first.filled_quantity == pytest.approx(0.3)


async def test_cancelling_an_order_inside_the_freeze_level_is_refused(fake_mt5: FakeMT5) -> None:
    fake_mt5.fake_set_symbol("EURUSD", freeze_level=500)
    async with started_mt5(fake_mt5) as plugin:
        await plugin.execute_order(order(order_type="limit", price=1.082))
        with pytest.raises(OrderRejected, match="FROZEN"):
            await plugin.execute_order(Order(symbol="EURUSD", action="cancel"))
    assert len(fake_mt5.state()["orders"]) == 1
