"""Routing: which plugin executes a signal, and the symbol that plugin knows it by.

In order: the alert's own `plugin` field (where the source allows it), the source's `routes`,
the source's `plugin`, the top-level `routes`, the default plugin. Routes and a source's `plugin`
may name an account group instead (`webhook.decide.accounts`). Routes map symbol patterns to
plugins (`"*USDT" = "binance"`, `"ES*" = "ninjatrader"`, `"*" = "mt5"`); the most specific
matching pattern wins. Then `symbol_maps.PLUGIN` renames the symbol for that plugin
(`"ES1!" = "ES 12-25"`); a plugin's own `symbols` option still applies after that.
"""

from __future__ import annotations

from plugins.registry import PluginRegistry
from webhook.config.settings import Settings, SourceSettings
from webhook.decide.symbols import best_match, map_symbol
from webhook.dialects import ParsedSignal
from webhook.errors import PayloadError


class SymbolRouter:
    def __init__(self, settings: Settings, plugins: PluginRegistry) -> None:
        self._settings = settings
        self._plugins = plugins

    def route(
        self,
        parsed: ParsedSignal,
        source_name: str,
        source: SourceSettings | None,
        *,
        signed: bool = False,
    ) -> str:
        """The plugin for this signal; `PayloadError` (field `plugin`) when the alert names one
        it may not or that does not exist. Requests `signed` with the webhook secret (agents,
        scripts) may name a plugin unless their source settings say otherwise; URL sources
        only with `allow_plugin_field = true`."""
        symbol = parsed.order.symbol
        if parsed.plugin is not None:
            allowed = source.allow_plugin_field if source else None
            if not (signed if allowed is None else allowed):
                raise PayloadError(
                    "plugin", f"source {source_name!r} does not let alerts choose a plugin; "
                    f"remove the field or set sources.{source_name}.allow_plugin_field = true"
                )
            return self._known(parsed.plugin)
        if source is not None:
            pattern = best_match(source.routes, symbol)
            if pattern is not None:
                return self._known(source.routes[pattern])
            if source.plugin is not None:
                return self._known(source.plugin)
        pattern = best_match(self._settings.routes, symbol)
        if pattern is not None:
            return self._known(self._settings.routes[pattern])
        return self._known(self._settings.default_plugin)

    def broker_symbol(self, plugin: str, symbol: str) -> str:
        return map_symbol(self._settings.symbol_maps.get(plugin, {}), symbol)

    def _known(self, name: str) -> str:
        """A plugin's name, or an account group's (routes may name one: `chosen_accounts`)."""
        if name not in self._plugins and name not in self._settings.account_groups:
            known = ", ".join(sorted(self._plugins.names()))
            raise PayloadError("plugin", f"unknown plugin {name!r}; configured plugins: {known}")
        return name
