from __future__ import annotations

import time

import pytest

from plugins.errors import NotSupported, OrderRejected
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import ExecutionStatus, Order, OrderAction, OrderSide, OrderType

pytestmark = pytest.mark.anyio


async def paper(**options: object) -> MockPlugin:
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig.model_validate({"delay_ms": 0, **options}))
    return plugin


def buy(symbol: str = "BTC/USDT", quantity: float = 1, **fields: object) -> Order:
    return Order.model_validate({"symbol": symbol, "side": "buy", "quantity": quantity, **fields})


def sell(symbol: str = "BTC/USDT", quantity: float = 1, **fields: object) -> Order:
    return Order.model_validate({"symbol": symbol, "side": "sell", "quantity": quantity, **fields})


async def test_market_buy_fills_0_01_percent_above_the_signal_price() -> None:
    result = await (await paper()).execute_order(buy(quantity=0.1, price=67500))
    assert result.success and result.status is ExecutionStatus.FILLED
    assert result.average_price == pytest.approx(67506.75)
    assert result.filled_quantity == 0.1
    assert result.order_id is not None and result.order_id.startswith("MOCK-")


async def test_market_sell_fills_0_01_percent_below() -> None:
    result = await (await paper()).execute_order(sell("ETH/USDT"))
    assert result.average_price == pytest.approx(3500 * 0.9999)


@pytest.mark.parametrize(
    ("symbol", "price"),
    [("BTCUSDT", 67500), ("BINANCE:ETHUSDT", 3500), ("ES1!", 5000), ("MES1!", 5000),
     ("EURUSD", 1.085)],
)
async def test_starting_prices_by_symbol(symbol: str, price: float) -> None:
    assert (await (await paper()).fetch_data(symbol)).last == price


@pytest.mark.parametrize("symbol", ["AAPL", "ESPORTS"])
async def test_a_symbol_without_a_price_is_not_quoted_but_still_fills(symbol: str) -> None:
    plugin = await paper()
    with pytest.raises(NotSupported, match=f"no price for {symbol}: give one in"):
        await plugin.fetch_data(symbol)
    result = await plugin.execute_order(buy(symbol=symbol))
    assert result.average_price is not None and result.average_price > 0


async def test_configured_prices_override_the_built_in_ones() -> None:
    plugin = await paper(prices={"AAPL": 190.0})
    assert (await plugin.fetch_data("AAPL")).last == 190.0


async def test_delay_is_configurable() -> None:
    plugin = await paper(delay_ms=120)
    started = time.monotonic()
    await plugin.execute_order(buy())
    assert time.monotonic() - started >= 0.12


def test_delay_defaults_to_50_ms() -> None:
    assert MockConfig().delay_ms == 50


async def test_marketable_limit_fills_and_resting_limit_is_placed() -> None:
    plugin = await paper()
    filled = await plugin.execute_order(buy(order_type="limit", price=68000))
    resting = await plugin.execute_order(buy(order_type="limit", price=60000))
    assert filled.status is ExecutionStatus.FILLED and filled.average_price == 67500
    assert resting.status is ExecutionStatus.PLACED and resting.filled_quantity == 0
    assert plugin.position("BTC/USDT") == 1


async def test_stop_rests_until_triggered() -> None:
    plugin = await paper()
    resting = await plugin.execute_order(buy(order_type="stop", stop_price=70000))
    triggered = await plugin.execute_order(sell(order_type="stop", stop_price=70000))
    assert resting.status is ExecutionStatus.PLACED
    assert triggered.status is ExecutionStatus.FILLED


async def test_close_flattens_the_position() -> None:
    plugin = await paper()
    await plugin.execute_order(buy(quantity=2))
    result = await plugin.execute_order(Order(symbol="BTC/USDT", action=OrderAction.CLOSE))
    assert result.filled_quantity == 2
    assert plugin.position("BTC/USDT") == 0


async def test_partial_close_takes_the_quantity() -> None:
    plugin = await paper()
    await plugin.execute_order(sell(quantity=3))
    await plugin.execute_order(Order(symbol="BTC/USDT", action=OrderAction.CLOSE, quantity=1))
    assert plugin.position("BTC/USDT") == -2


async def test_close_with_nothing_open_is_refused() -> None:
    plugin = await paper()
    with pytest.raises(OrderRejected, match="no open position in BTC/USDT"):
        await plugin.execute_order(Order(symbol="BTC/USDT", action=OrderAction.CLOSE))


async def test_closing_the_other_side_is_refused() -> None:
    plugin = await paper()
    await plugin.execute_order(buy())
    close_short = Order(symbol="BTC/USDT", action=OrderAction.CLOSE, side=OrderSide.BUY)
    with pytest.raises(OrderRejected, match="no open short position"):
        await plugin.execute_order(close_short)


async def test_reverse_flips_the_position() -> None:
    plugin = await paper()
    await plugin.execute_order(buy(quantity=2))
    result = await plugin.execute_order(
        Order(symbol="BTC/USDT", action=OrderAction.REVERSE, side=OrderSide.SELL)
    )
    assert result.filled_quantity == 4
    assert plugin.position("BTC/USDT") == -2


async def test_reverse_with_a_quantity_opens_that_much_the_other_way() -> None:
    plugin = await paper()
    await plugin.execute_order(buy(quantity=2))
    await plugin.execute_order(
        Order(symbol="BTC/USDT", action=OrderAction.REVERSE, side=OrderSide.SELL, quantity=1)
    )
    assert plugin.position("BTC/USDT") == -1


async def test_cancel_removes_resting_orders() -> None:
    plugin = await paper()
    await plugin.execute_order(buy(order_type="limit", price=60000))
    result = await plugin.execute_order(Order(symbol="BTC/USDT", action=OrderAction.CANCEL))
    assert result.status is ExecutionStatus.CANCELLED
    with pytest.raises(OrderRejected, match="no open orders"):
        await plugin.execute_order(Order(symbol="BTC/USDT", action=OrderAction.CANCEL))


async def test_same_client_order_id_is_one_order() -> None:
    plugin = await paper()
    order = buy(client_order_id="SIGNAL1")
    first, second = await plugin.execute_order(order), await plugin.execute_order(order)
    assert first == second
    assert plugin.position("BTC/USDT") == 1
    assert await plugin.lookup_order("SIGNAL1") == first
    assert await plugin.lookup_order("OTHER") is None


async def test_health_follows_the_plugin_life() -> None:
    plugin = await paper()
    assert await plugin.health_check()
    await plugin.close()
    assert not await plugin.health_check()


def test_order_type_limit_is_validated_before_the_plugin() -> None:
    with pytest.raises(ValueError, match="price is required"):
        buy(order_type=OrderType.LIMIT)


async def test_the_paper_account_remembers_only_the_newest_orders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("plugins.mock.REMEMBERED", 3)
    plugin = await paper()
    for n in range(5):
        await plugin.execute_order(buy(client_order_id=f"SIGNAL{n}"))
    assert await plugin.lookup_order("SIGNAL0") is None
    assert await plugin.lookup_order("SIGNAL1") is None
    assert all([await plugin.lookup_order(f"SIGNAL{n}") for n in (2, 3, 4)])
