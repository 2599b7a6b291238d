from __future__ import annotations

import asyncio

import pytest

from plugins.base import ExecutionPlugin, PluginCapabilities, PluginConfig
from plugins.errors import NotSupported, OrderRejected, TemporaryError, UnknownPlugin
from plugins.mock import MockConfig, MockPlugin
from plugins.orders import AccountBalance, ExecutionResult, MarketData, Order, OrderSide
from plugins.registry import PluginRegistry

pytestmark = pytest.mark.anyio
ORDER = Order(symbol="BTC/USDT", side=OrderSide.BUY, quantity=1)


class ScriptedPlugin(ExecutionPlugin[PluginConfig]):
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


async def test_a_plugin_registered_as_default_is_the_default() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a"))
    registry.register(ScriptedPlugin("b"), default=True)
    registry.register(ScriptedPlugin("c"))
    assert registry.default_name == "b"
    assert (await registry.execute_order(ORDER)).order_id == "b"


async def test_unknown_plugin_is_a_clear_error() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("paper"))
    with pytest.raises(UnknownPlugin, match=r"unknown plugin 'live'; registered plugins: paper"):
        await registry.execute_order(ORDER, "live")
    with pytest.raises(UnknownPlugin):
        registry.get("live")


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


class Undeclared(ScriptedPlugin):
    """Implements every optional ability but declares none of them."""

    async def lookup_order(
        self, client_order_id: str, symbol: str | None = None, order: Order | None = None
    ) -> ExecutionResult | None:
        raise AssertionError("asked although not declared")

    async def fetch_balance(self) -> AccountBalance:
        raise AssertionError("asked although not declared")

    async def fetch_position(self, symbol: str) -> float:
        raise AssertionError("asked although not declared")


async def paper(name: str = "paper") -> MockPlugin:
    plugin = MockPlugin(name)
    await plugin.init(MockConfig(delay_ms=0, equity=5_000))
    return plugin


async def test_capabilities_are_those_the_plugin_declares() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a"))
    registry.register(await paper())
    assert registry.capabilities() == PluginCapabilities()
    assert registry.capabilities("paper") == MockPlugin.capabilities
    with pytest.raises(UnknownPlugin):
        registry.capabilities("live")


async def test_undeclared_abilities_are_refused_without_asking_the_plugin() -> None:
    registry = PluginRegistry()
    registry.register(Undeclared("bare"))
    with pytest.raises(NotSupported, match=r"^plugin 'bare' cannot report its balance$"):
        await registry.fetch_balance()
    with pytest.raises(NotSupported, match=r"^plugin 'bare' cannot report positions$"):
        await registry.fetch_position("ES", "bare")
    with pytest.raises(NotSupported, match=r"^plugin 'bare' cannot look up orders by client id$"):
        await registry.lookup_order("S1", "ES")


async def test_a_lookup_also_needs_the_broker_to_store_client_order_ids() -> None:
    registry = PluginRegistry()
    plugin = Undeclared("half")
    plugin.capabilities = PluginCapabilities(lookup_by_client_order_id=True)
    registry.register(plugin)
    with pytest.raises(NotSupported, match="'half' cannot look up orders by client id"):
        await registry.lookup_order("S1", None)


async def test_declared_abilities_are_asked_of_the_named_plugin() -> None:
    registry = PluginRegistry()
    registry.register(ScriptedPlugin("a"))
    registry.register(await paper())
    placed = await registry.execute_order(ORDER.model_copy(update={"client_order_id": "S1"}),
                                          "paper")  # fmt: skip
    assert await registry.lookup_order("S1", ORDER.symbol, "paper") == placed
    assert await registry.lookup_order("S2", None, "paper") is None
    assert await registry.fetch_position(ORDER.symbol, "paper") == 1
    assert (await registry.fetch_balance("paper")).equity == 5_000
    assert (await registry.fetch_data("ETH", "paper")).symbol == "ETH"
    assert (await registry.fetch_data("ETH")).last == 1  # the default, ScriptedPlugin "a"
