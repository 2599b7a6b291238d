from __future__ import annotations

import asyncio

import pytest

from plugins.base import ExecutionPlugin, PluginConfig
from plugins.errors import OrderRejected, TemporaryError, UnknownPlugin
from plugins.mock import MockPlugin
from plugins.orders import ExecutionResult, MarketData, Order, OrderSide
from plugins.registry import PluginRegistry

pytestmark = pytest.mark.anyio
ORDER = Order(symbol="BTC/USDT", side=OrderSide.BUY, quantity=1)


class ScriptedPlugin(ExecutionPlugin):
    """Answers as told: raises `error` if set, sleeps `health_delay` before a health answer."""

    def __init__(self, name: str, *, error: Exception | None = None,
                 health_delay: float = 0.0, healthy: bool = True) -> None:
        super().__init__(name)
        self.error, self.health_delay, self.healthy = error, health_delay, healthy
        self.orders: list[Order] = []

    async def init(self, config: PluginConfig) -> None:
        pass

    async def execute_order(self, order: Order) -> ExecutionResult:
        self.orders.append(order)
        if self.error:
            raise self.error
        return ExecutionResult(success=True, status="filled", order_id=self.name)

    async def fetch_data(self, symbol: str) -> MarketData:
        return MarketData(symbol=symbol, bid=1, ask=1, last=1)

    async def health_check(self) -> bool:
        await asyncio.sleep(self.health_delay)
        return self.healthy


async def test_first_registered_plugin_is_the_default() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a"))
    registry.register(ScriptedPlugin("b"))
    assert registry.default_name == "a"
    assert (await registry.execute_order(ORDER)).order_id == "a"


async def test_named_plugin_is_used_over_the_default() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a"))
    registry.register(ScriptedPlugin("b"))
    assert (await registry.execute_order(ORDER, "b")).order_id == "b"


async def test_set_default_changes_the_default() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a"))
    registry.register(ScriptedPlugin("b"))
    registry.set_default("b")
    assert (await registry.execute_order(ORDER)).order_id == "b"


async def test_unknown_plugin_is_a_clear_error() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("paper"))
    with pytest.raises(UnknownPlugin, match=r"unknown plugin 'live'; registered plugins: paper"):
        await registry.execute_order(ORDER, "live")
    with pytest.raises(UnknownPlugin):
        registry.set_default("live")


async def test_empty_registry_has_no_default() -> None:
    with pytest.raises(UnknownPlugin):
        await PluginRegistry().execute_order(ORDER)


def test_registering_a_name_twice_is_refused() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a"))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(ScriptedPlugin("a"))


async def test_final_refusal_becomes_a_rejected_result() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a", error=OrderRejected("market closed")))
    result = await registry.execute_order(ORDER.model_copy(update={"client_order_id": "S1"}))
    assert (result.success, result.status, result.error) == (False, "rejected", "market closed")
    assert result.client_order_id == "S1"


async def test_temporary_error_propagates_for_the_caller_to_retry() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a", error=TemporaryError("busy")))
    with pytest.raises(TemporaryError):
        await registry.execute_order(ORDER)


async def test_hung_plugin_does_not_stall_the_health_check_of_the_others() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("hung", health_delay=30))
    registry.register(ScriptedPlugin("ok"))
    registry.register(ScriptedPlugin("down", healthy=False))
    registry.register(ScriptedPlugin("broken", error=None, health_delay=0))
    registry.get("broken").health_check = _raise  # type: ignore[method-assign]
    started = asyncio.get_running_loop().time()
    health = await registry.health_check_all(per_plugin_timeout=0.2)
    assert health == {"hung": False, "ok": True, "down": False, "broken": False}
    assert asyncio.get_running_loop().time() - started < 5


async def _raise() -> bool:
    raise ConnectionError("no route")


async def test_concurrent_orders_through_one_registry_all_execute() -> None:
    registry = PluginRegistry()
    paper = MockPlugin("paper")
    await paper.init(MockPlugin.config_model.model_validate({"delay_ms": 1}))
    registry.register(paper)
    orders = [ORDER.model_copy(update={"client_order_id": f"C{i}"}) for i in range(100)]
    results = await asyncio.gather(*(registry.execute_order(o) for o in orders))
    assert len({r.order_id for r in results}) == 100
    assert paper.position("BTC/USDT") == pytest.approx(100)
