"""Plugin types chosen by name in the configuration, imported only when chosen.

Each type maps to a ``"module:Class"`` string, as uvicorn does for its loops and protocols, so
that an optional broker library costs nothing unless a configured plugin uses it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from plugins.base import ExecutionPlugin, PluginConfig
from plugins.errors import PluginConfigError

PLUGIN_TYPES: dict[str, str] = {
    "mock": "plugins.mock:MockPlugin",
    "ccxt": "plugins.ccxt:CcxtPlugin",
    "mt5": "plugins.mt5:MT5Plugin",
    "ninjatrader": "plugins.ninjatrader:NinjaTraderPlugin",
}

INSTALL_HINTS: dict[str, str] = {
    "ccxt": "pip install 'tradehook[ccxt]'",
    "mt5": "pip install 'tradehook[mt5]'",
    "ninjatrader": "pip install 'tradehook[ninjatrader]'",
}


def plugin_class(type_name: str) -> type[ExecutionPlugin[Any]]:
    """The class implementing a plugin type; a clear error for an unknown type."""
    target = PLUGIN_TYPES.get(type_name)
    if target is None:
        known = ", ".join(sorted(PLUGIN_TYPES))
        raise PluginConfigError(f"unknown plugin type {type_name!r}; known types: {known}")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = INSTALL_HINTS.get(type_name, "install its package")
        raise PluginConfigError(
            f"plugin type {type_name!r} needs the package {exc.name!r}: {hint}"
        ) from exc
    cls: type[ExecutionPlugin[Any]] = getattr(module, attr)
    return cls


def validate_plugin_config(type_name: str, options: Mapping[str, Any]) -> PluginConfig:
    """Check a plugin's options against its type's model, naming the offending key."""
    cls = plugin_class(type_name)
    try:
        return cls.config_model.model_validate(dict(options))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(options)"
        raise PluginConfigError(f"{key}: {first['msg']}") from exc


async def start_plugin(name: str, type_name: str, config: PluginConfig) -> ExecutionPlugin[Any]:
    """Create and initialise one plugin; any failure becomes a `PluginConfigError`.

    `config` is what `validate_plugin_config` returned; options of another model are checked
    against the type's model here, so that the plugin always receives its own, validated.
    """
    cls = plugin_class(type_name)
    if not isinstance(config, cls.config_model):
        config = validate_plugin_config(type_name, config.model_dump())
    plugin = cls(name)
    try:
        await plugin.init(config)
    except PluginConfigError:
        raise
    except Exception as exc:
        raise PluginConfigError(f"plugin {name!r} ({type_name}) failed to start: {exc}") from exc
    return plugin
