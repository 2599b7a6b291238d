"""Stop-loss and take-profit, close, reverse and cancel on a spot exchange (fake Binance), which
attaches nothing natively: the bracket follows the filled entry as an OCO or a single order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugins.ccxt import CcxtPlugin
from plugins.errors import OrderRejected
from plugins.orders import ExecutionStatus
from tests.fakes.binance import Failure, FakeBinance
from tests.plugins.ccxt.support import SIGNAL_ID, giving_up_soon, order

pytestmark = pytest.mark.anyio

BOUGHT_AFTER_FEE = "0.00999"
"""0.01 BTC bought, less Binance's 0.1% commission taken in BTC."""


async def test_spot_binance_does_not_attach_brackets_natively(spot: CcxtPlugin) -> None:
    assert spot.capabilities.native_stop_loss_take_profit is False
    assert spot.capabilities.client_order_ids and spot.capabilities.lookup_by_client_order_id


async def test_stop_loss_and_take_profit_follow_a_filled_buy_as_one_oco(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    result = await spot.execute_order(order(stop_loss=59000, take_profit=61000))

    assert result.status is ExecutionStatus.FILLED and result.error is None
    [oco] = fake_binance.order_lists
    sent = oco["params"]
    assert sent["side"] == "SELL"
    assert sent["quantity"] == BOUGHT_AFTER_FEE
    assert (sent["aboveType"], float(sent["abovePrice"])) == ("LIMIT_MAKER", 61000)
    assert (sent["belowType"], float(sent["belowStopPrice"])) == ("STOP_LOSS", 59000)
    assert sent["listClientOrderId"] == f"{SIGNAL_ID}oc"
    assert (sent["aboveClientOrderId"], sent["belowClientOrderId"]) == (
        f"{SIGNAL_ID}tp",
        f"{SIGNAL_ID}sl",
    )


async def test_a_lone_stop_loss_follows_a_filled_buy_as_a_stop_loss_sell(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order(stop_loss=59000))

    entry, stop = fake_binance.orders
    assert stop.params["type"] == "STOP_LOSS"
    assert stop.params["side"] == "SELL"
    assert stop.params["quantity"] == BOUGHT_AFTER_FEE
    assert float(stop.params["stopPrice"]) == 59000
    assert stop.client_order_id == f"{SIGNAL_ID}sl"


async def test_a_lone_take_profit_follows_a_filled_buy_as_a_take_profit_sell(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order(take_profit=61000))

    entry, target = fake_binance.orders
    assert target.params["type"] == "TAKE_PROFIT"
    assert float(target.params["stopPrice"]) == 61000
    assert target.client_order_id == f"{SIGNAL_ID}tp"


async def test_bracket_on_a_resting_entry_is_refused_before_sending(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(OrderRejected, match="cannot attach a stop-loss or take-profit"):
        await spot.execute_order(order(order_type="limit", price=59500, stop_loss=59000))

    assert fake_binance.orders == []


async def test_bracket_on_a_spot_sell_is_refused(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(OrderRejected, match="a spot sell opens no position"):
        await spot.execute_order(order(side="sell", stop_loss=61000))

    assert fake_binance.orders == []


async def test_a_bracket_that_fails_after_the_fill_is_reported_with_the_fill(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.INSUFFICIENT_BALANCE, path="/api/v3/orderList/oco")

    result = await spot.execute_order(order(stop_loss=59000, take_profit=61000))

    assert result.status is ExecutionStatus.FILLED and result.success
    assert result.error is not None
    assert "the entry filled, but its stop-loss and take-profit were not placed" in result.error


async def test_a_bracket_is_placed_once_a_lookup_finds_the_unanswered_entry_filled(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.fail_next(Failure.TIMEOUT_AFTER_ACCEPT)
    with giving_up_soon(spot), pytest.raises(Exception, match="may have reached the exchange"):
        await spot.execute_order(order(stop_loss=59000))

    found = await spot.lookup_order(SIGNAL_ID)

    assert found is not None and found.status is ExecutionStatus.FILLED
    assert [o.client_order_id for o in fake_binance.orders] == [SIGNAL_ID, f"{SIGNAL_ID}sl"]


async def test_close_sells_the_free_base_balance(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.balances["ETH"] = Decimal("2.34567")

    result = await spot.execute_order(order("ETHUSDT", action="close", side=None, quantity=None))

    [sold] = fake_binance.orders
    assert (sold.params["type"], sold.params["side"]) == ("MARKET", "SELL")
    assert sold.params["quantity"] == "2.3456"
    assert sold.client_order_id == SIGNAL_ID
    assert result.status is ExecutionStatus.FILLED
    assert result.filled_quantity == pytest.approx(2.3456)


async def test_close_with_a_quantity_sells_only_that_much(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order("ETHUSDT", action="close", side=None, quantity=0.5))

    assert fake_binance.orders[0].params["quantity"] == "0.5"


async def test_close_with_nothing_held_is_refused(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.balances["ETH"] = Decimal(0)

    with pytest.raises(OrderRejected, match=r"close ETH/USDT on binance: nothing to sell"):
        await spot.execute_order(order("ETHUSDT", action="close", side=None, quantity=None))


async def test_close_says_how_much_is_locked_in_open_orders(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.balances["ETH"] = Decimal(1)
    await spot.execute_order(
        order("ETHUSDT", side="sell", quantity=1, order_type="limit", price=3500)
    )

    with pytest.raises(OrderRejected, match=r"0 ETH free, 1 in open orders"):
        await spot.execute_order(order("ETHUSDT", action="close", side=None, quantity=None))


async def test_close_of_dust_is_refused_with_the_minimum(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    fake_binance.balances["BTC"] = Decimal("0.00004")

    with pytest.raises(OrderRejected, match=r"below BTC/USDT's minimum of 5 USDT \(0\.00004 BTC"):
        await spot.execute_order(order(action="close", side=None, quantity=None))


async def test_close_of_a_short_is_refused_on_spot(spot: CcxtPlugin) -> None:
    with pytest.raises(OrderRejected, match="holds no short position"):
        await spot.execute_order(order(action="close", side="buy", quantity=None))


async def test_reverse_to_a_short_is_refused_on_spot(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    with pytest.raises(OrderRejected, match="cannot go short"):
        await spot.execute_order(order(action="reverse", side="sell"))

    assert fake_binance.orders == []


async def test_reverse_to_a_long_on_spot_buys_the_quantity(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await spot.execute_order(order(action="reverse", side="buy", quantity=0.02))

    [bought] = fake_binance.orders
    assert (bought.params["side"], bought.params["quantity"]) == ("BUY", "0.02")


async def rest(plugin: CcxtPlugin, symbol: str, side: str, signal_id: str) -> None:
    price = {"buy": 50000, "sell": 70000}[side] * (0.05 if symbol == "ETHUSDT" else 1)
    await plugin.execute_order(
        order(symbol, side=side, order_type="limit", price=price, client_order_id=signal_id)
    )


async def test_cancel_cancels_every_open_order_on_the_symbol(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await rest(spot, "BTCUSDT", "buy", "01JDQ3F6Z8X2K9M4N7P5R0S1A1")
    await rest(spot, "BTCUSDT", "sell", "01JDQ3F6Z8X2K9M4N7P5R0S1A2")
    await rest(spot, "ETHUSDT", "buy", "01JDQ3F6Z8X2K9M4N7P5R0S1A3")

    result = await spot.execute_order(order(action="cancel", side=None, quantity=None))

    assert [o.status for o in fake_binance.orders] == ["CANCELED", "CANCELED", "NEW"]
    assert result.status is ExecutionStatus.CANCELLED
    assert result.order_id == ",".join(str(o.order_id) for o in fake_binance.orders[:2])


async def test_cancel_with_a_side_cancels_only_those_orders(
    spot: CcxtPlugin, fake_binance: FakeBinance
) -> None:
    await rest(spot, "BTCUSDT", "buy", "01JDQ3F6Z8X2K9M4N7P5R0S1A1")
    await rest(spot, "BTCUSDT", "sell", "01JDQ3F6Z8X2K9M4N7P5R0S1A2")

    await spot.execute_order(order(action="cancel", side="sell", quantity=None))

    assert [o.status for o in fake_binance.orders] == ["NEW", "CANCELED"]


async def test_cancel_with_nothing_open_is_refused(spot: CcxtPlugin) -> None:
    with pytest.raises(OrderRejected, match="there are no open orders to cancel"):
        await spot.execute_order(order(action="cancel", side=None, quantity=None))
