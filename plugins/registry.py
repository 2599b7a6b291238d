"""The registry: named plugin instances, a default, and routing of orders to them."""

from __future__ import annotations

import asyncio
import threading

from plugins.base import ExecutionPlugin
from plugins.errors import OrderRejected, UnknownPlugin
from plugins.orders import ExecutionResult, Order

DEFAULT_HEALTH_TIMEOUT = 5.0


class PluginRegistry:
    """Plugins by name, one of them the default. Safe to use from several tasks and threads."""

    def __init__(self) -> None:
        self._plugins: dict[str, ExecutionPlugin] = {}
        self._default: str | None = None
        self._lock = threading.Lock()

    def register(self, plugin: ExecutionPlugin, *, default: bool = False) -> None:
        """Add a plugin under its name; the first one registered becomes the default."""
        with self._lock:
            if plugin.name in self._plugins:
                raise ValueError(f"a plugin named {plugin.name!r} is already registered")
            self._plugins[plugin.name] = plugin
            if default or self._default is None:
                self._default = plugin.name

    def get(self, name: str | None = None) -> ExecutionPlugin:
        """The named plugin, or the default one when `name` is None."""
        with self._lock:
            key = self._default if name is None else name
            plugin = self._plugins.get(key) if key is not None else None
            if plugin is None:
                raise UnknownPlugin(key or "(default)", list(self._plugins))
            return plugin

    def set_default(self, name: str) -> None:
        with self._lock:
            if name not in self._plugins:
                raise UnknownPlugin(name, list(self._plugins))
            self._default = name

    @property
    def default_name(self) -> str | None:
        return self._default

    def names(self) -> list[str]:
        with self._lock:
            return list(self._plugins)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._plugins

    async def execute_order(self, order: Order, plugin: str | None = None) -> ExecutionResult:
        """Execute on the named plugin (else the default). A final refusal becomes a rejected
        result; temporary and unknown outcomes propagate for the caller to retry or reconcile."""
        target = self.get(plugin)
        try:
            return await target.execute_order(order)
        except OrderRejected as exc:
            return ExecutionResult.rejected(str(exc), client_order_id=order.client_order_id)

    async def health_check_all(
        self, per_plugin_timeout: float = DEFAULT_HEALTH_TIMEOUT
    ) -> dict[str, bool]:
        """Each plugin's health, asked concurrently; a plugin that fails or takes longer than
        `per_plugin_timeout` seconds counts as unhealthy without holding up the others."""
        with self._lock:
            plugins = list(self._plugins.values())

        async def ask(plugin: ExecutionPlugin) -> bool:
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
