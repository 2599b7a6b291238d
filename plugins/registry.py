"""The registry: named plugin instances, a default, and the one way callers reach them."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from plugins.base import (
    LOOK_UP_ORDERS,
    MOVE_POSITION_STOP,
    REPORT_BALANCE,
    REPORT_POSITIONS,
    REPORT_SYMBOL_SPECS,
    ExecutionPlugin,
    PluginCapabilities,
    PluginDescription,
)
from plugins.errors import DuplicatePlugin, NotSupported, OrderRejected, UnknownPlugin
from plugins.orders import (
    AccountBalance,
    ExecutionResult,
    MarketData,
    Order,
    OrderSide,
    SymbolSpecs,
)

DEFAULT_HEALTH_TIMEOUT = 5.0


class PluginRegistry:
    """Plugins by name, one of them the default. Safe to use from several tasks and threads.

    Every call takes the plugin's name, or None for the default one. The optional abilities
    (`lookup_order`, `fetch_balance`, `fetch_position`, `fetch_symbol_specs`,
    `move_position_stop`) are asked only of a plugin that declares them in its capabilities;
    otherwise they raise `NotSupported`.
    """

    def __init__(self) -> None:
        self._plugins: dict[str, ExecutionPlugin[Any]] = {}
        self._default: str | None = None
        self._lock = threading.Lock()

    def register(self, plugin: ExecutionPlugin[Any], *, default: bool = False) -> None:
        """Add a plugin under its name; the first one registered becomes the default, unless a
        later one is registered with `default=True`."""
        with self._lock:
            if plugin.name in self._plugins:
                raise DuplicatePlugin(plugin.name)
            self._plugins[plugin.name] = plugin
            if default or self._default is None:
                self._default = plugin.name

    def get(self, name: str | None = None) -> ExecutionPlugin[Any]:
        """The named plugin, or the default one when `name` is None."""
        with self._lock:
            key = self._default if name is None else name
            plugin = self._plugins.get(key) if key is not None else None
            if plugin is None:
                raise UnknownPlugin(key or "(default)", list(self._plugins))
            return plugin

    @property
    def default_name(self) -> str | None:
        return self._default

    def names(self) -> list[str]:
        with self._lock:
            return list(self._plugins)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._plugins

    def capabilities(self, name: str | None = None) -> PluginCapabilities:
        return self.get(name).capabilities

    async def execute_order(self, order: Order, plugin: str | None = None) -> ExecutionResult:
        """Execute on the named plugin (else the default). A final refusal becomes a rejected
        result; temporary and unknown outcomes propagate for the caller to retry or reconcile."""
        target = self.get(plugin)
        try:
            return await target.execute_order(order)
        except OrderRejected as exc:
            return ExecutionResult.rejected(str(exc), client_order_id=order.client_order_id)

    def describe(self, name: str | None = None) -> PluginDescription:
        return self.get(name).describe()

    async def lookup_order(
        self,
        client_order_id: str,
        symbol: str | None,
        plugin: str | None = None,
        order: Order | None = None,
    ) -> ExecutionResult | None:
        """The order the broker holds under our client order id, None when it certainly holds
        none. Needs both `client_order_ids` and `lookup_by_client_order_id`; `order` is the
        order as sent (see `ExecutionPlugin.lookup_order`)."""
        target = self.get(plugin)
        declared = target.capabilities
        able = declared.client_order_ids and declared.lookup_by_client_order_id
        _require(target, able, LOOK_UP_ORDERS)
        return await target.lookup_order(client_order_id, symbol, order=order)

    async def fetch_data(self, symbol: str, plugin: str | None = None) -> MarketData:
        return await self.get(plugin).fetch_data(symbol)

    async def fetch_balance(self, plugin: str | None = None) -> AccountBalance:
        target = self.get(plugin)
        _require(target, target.capabilities.balance, REPORT_BALANCE)
        return await target.fetch_balance()

    async def fetch_position(self, symbol: str, plugin: str | None = None) -> float:
        target = self.get(plugin)
        _require(target, target.capabilities.positions, REPORT_POSITIONS)
        return await target.fetch_position(symbol)

    async def fetch_symbol_specs(self, symbol: str, plugin: str | None = None) -> SymbolSpecs:
        target = self.get(plugin)
        _require(target, target.capabilities.symbol_specs, REPORT_SYMBOL_SPECS)
        return await target.fetch_symbol_specs(symbol)

    async def move_position_stop(self, symbol: str, side: OrderSide, stop_price: float,
                                 plugin: str | None = None) -> None:
        target = self.get(plugin)
        _require(target, target.capabilities.position_stop, MOVE_POSITION_STOP)
        await target.move_position_stop(symbol, side, stop_price)

    async def health_check_all(
        self, per_plugin_timeout: float = DEFAULT_HEALTH_TIMEOUT
    ) -> dict[str, bool]:
        """Each plugin's health, asked concurrently; a plugin that fails or takes longer than
        `per_plugin_timeout` seconds counts as unhealthy without holding up the others."""
        with self._lock:
            plugins = list(self._plugins.values())

        async def ask(plugin: ExecutionPlugin[Any]) -> bool:
            try:
                return await asyncio.wait_for(plugin.health_check(), per_plugin_timeout)
            except Exception:  # noqa: BLE001 - any failure to answer means unhealthy
                return False

        answers = await asyncio.gather(*(ask(p) for p in plugins))
        return {p.name: ok for p, ok in zip(plugins, answers, strict=True)}

    async def close_all(self) -> None:
        with self._lock:
            plugins = list(self._plugins.values())
        await asyncio.gather(*(p.close() for p in plugins), return_exceptions=True)


def _require(plugin: ExecutionPlugin[Any], declared: bool, ability: str) -> None:
    if not declared:
        raise NotSupported.ability(plugin.name, ability)
