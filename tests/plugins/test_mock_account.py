"""The paper plugin reports its equity and positions, for sizing and position limits."""

from __future__ import annotations

import pytest

from plugins.base import ExecutionPlugin, PluginConfig
from plugins.errors import NotSupported
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import AccountBalance, ExecutionResult, MarketData, Order

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
