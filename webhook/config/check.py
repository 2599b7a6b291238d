"""`tradehook check`: each configured plugin started once, its health and warnings printed."""

from __future__ import annotations

from plugins.errors import PluginConfigError
from plugins.loader import start_plugin, validate_plugin_config
from webhook.config.settings import Settings


async def check_plugins(settings: Settings) -> int:
    failures = 0
    for name, plugin in settings.plugins.items():
        try:
            config = validate_plugin_config(plugin.type, plugin.options)
            started = await start_plugin(name, plugin.type, config)
            healthy = await started.health_check()
            warnings = started.describe().warnings
            await started.close()
            state = "healthy" if healthy else "UNHEALTHY"
            print(f"plugin {name} ({plugin.type}): started, {state}")
            for warning in warnings:
                print(f"plugin {name} ({plugin.type}): warning: {warning}")
            failures += 0 if healthy else 1
        except PluginConfigError as exc:
            print(f"plugin {name} ({plugin.type}): FAILED: {exc}")
            failures += 1
    return 1 if failures else 0
