"""The paper plugin reports its equity and positions, for sizing and position limits."""

from __future__ import annotations

import pytest

from plugins.base import ExecutionPlugin, PluginConfig
from plugins.errors import NotSupported, OrderRejected
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import AccountBalance, ExecutionResult, MarketData, Order, OrderSide

pytestmark = pytest.mark.anyio


async def test_balance_is_the_configured_equity() -> None:
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig(delay_ms=0, equity=25_000, currency="USDT"))
    assert await plugin.fetch_balance() == AccountBalance(currency="USDT", equity=25_000)


async def test_position_follows_fills_close_and_reverse() -> None:
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig(delay_ms=0))
    await plugin.execute_order(Order.model_validate({"symbol": "ES", "side": "buy",
                                                     "quantity": 2}))
    assert await plugin.fetch_position("ES") == 2
    await plugin.execute_order(Order.model_validate({"symbol": "ES", "side": "sell",
                                                     "action": "reverse", "quantity": 1}))
    assert await plugin.fetch_position("ES") == -1
    await plugin.execute_order(Order.model_validate({"symbol": "ES", "action": "close"}))
    assert await plugin.fetch_position("ES") == 0


class Minimal(ExecutionPlugin[PluginConfig]):
    async def init(self, config: PluginConfig) -> None:
        pass

    async def execute_order(self, order: Order) -> ExecutionResult:
        raise NotImplementedError

    async def fetch_data(self, symbol: str) -> MarketData:
        raise NotImplementedError

    async def health_check(self) -> bool:
        return True


async def test_a_plugin_that_reports_nothing_says_so() -> None:
    plugin = Minimal("bare")
    assert not (plugin.capabilities.balance or plugin.capabilities.positions)
    with pytest.raises(NotSupported, match="'bare' cannot report its balance"):
        await plugin.fetch_balance()
    with pytest.raises(NotSupported, match="'bare' cannot report positions"):
        await plugin.fetch_position("ES")


async def test_a_position_stop_moves_and_closes_the_position_once_the_price_crosses_it() -> None:
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig(delay_ms=0, slippage=0, prices={"ES": 100}))
    await plugin.execute_order(Order.model_validate({"symbol": "ES", "side": "buy",
                                                     "quantity": 2}))
    await plugin.move_position_stop("ES", OrderSide.BUY, 95)
    await plugin.move_position_stop("ES", OrderSide.BUY, 97)

    plugin.set_price("ES", 98)
    assert (await plugin.fetch_position("ES"), plugin.stop("ES")) == (2, 97)
    plugin.set_price("ES", 96.5)
    plugin.set_price("ES", 90)

    assert await plugin.fetch_position("ES") == 0
    assert [(f.filled_quantity, f.average_price) for f in plugin.stop_fills] == [(2, 96.5)]
    assert plugin.stop("ES") is None


async def test_a_stop_needs_its_position_and_the_right_side_of_the_price() -> None:
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig(delay_ms=0, prices={"ES": 100}))
    with pytest.raises(OrderRejected, match="no open long position in ES"):
        await plugin.move_position_stop("ES", OrderSide.BUY, 95)
    await plugin.execute_order(Order.model_validate({"symbol": "ES", "side": "sell",
                                                     "quantity": 1}))
    with pytest.raises(OrderRejected, match="must be above the price 100"):
        await plugin.move_position_stop("ES", OrderSide.SELL, 99)


async def test_a_long_running_account_keeps_the_newest_received_ids_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A paper server that runs for months must not grow with every order it took.
    monkeypatch.setattr("plugins.mock.REMEMBERED", 3)
    plugin = MockPlugin("paper")
    await plugin.init(MockConfig(delay_ms=0))
    for n in range(5):
        await plugin.execute_order(Order.model_validate(
            {"symbol": "ES", "side": "buy", "quantity": 1, "client_order_id": f"id-{n}"}))
    assert list(plugin.received) == ["id-2", "id-3", "id-4"]
