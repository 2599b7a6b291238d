"""A policy with paper plugins and a settable clock, for testing rules one at a time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plugins.mock import MockConfig, MockPlugin
from plugins.orders import Order
from plugins.registry import PluginRegistry
from webhook.config.settings import Settings
from webhook.decide.policy import PolicyVerdict, SignalPolicy
from webhook.decide.routing import SymbolRouter
from webhook.dialects import parse_alert
from webhook.execute.kill_switch import KillSwitch
from webhook.journal import SqliteJournal

PRICES = {"BTCUSDT": 50_000.0, "BTC/USDT": 50_000.0, "ETHUSDT": 2_000.0, "ES": 5_000.0}


@dataclass
class PolicyBench:
    settings: Settings
    registry: PluginRegistry
    policy: SignalPolicy
    router: SymbolRouter
    now: float = 1_700_000_000.0
    queued: list[Order] = field(default_factory=list)

    def paper(self, name: str = "paper") -> MockPlugin:
        plugin = self.registry.get(name)
        assert isinstance(plugin, MockPlugin)
        return plugin

    async def decide(self, body: str | bytes, source: str = "tv") -> PolicyVerdict:
        raw = body.encode() if isinstance(body, str) else body
        configured = self.settings.sources.get(source)
        parsed = parse_alert(
            raw, configured.dialect if configured else "auto",
            default_quantity=configured.sizing.quantity if configured else None,
            pineconnector=configured.pineconnector if configured else None,
        )
        plugin = self.router.route(parsed, source, configured, signed=source == "signed")
        symbol = self.router.broker_symbol(plugin, parsed.order.symbol)
        order = parsed.order.model_copy(update={"symbol": symbol})
        queued = [o for o in self.queued if o.symbol == symbol]
        return await self.policy.decide(parsed, order, source, plugin, queued=queued)


async def policy_bench(
    tmp_path: Path, config: dict[str, Any], *, kill_switch: KillSwitch | None = None
) -> PolicyBench:
    """Settings from `config` (plugins default to one paper plugin named `paper` with PRICES),
    the plugins started, and a policy whose clock and queued orders the test controls."""
    config = {"plugins": {"paper": {"type": "mock"}}, **config}
    settings = Settings.model_validate(config)
    registry = PluginRegistry()
    for name, plugin_settings in settings.plugins.items():
        plugin = MockPlugin(name)
        options = {"delay_ms": 0, "prices": PRICES, **plugin_settings.options}
        await plugin.init(MockConfig.model_validate(options))
        registry.register(plugin, default=name == settings.default_plugin)
    switch = kill_switch or KillSwitch(SqliteJournal(tmp_path / "unused.db"),
                                       configured=settings.kill_switch)
    bench: PolicyBench
    policy = SignalPolicy(settings, registry, switch, clock=lambda: bench.now)
    bench = PolicyBench(settings, registry, policy, SymbolRouter(settings, registry))
    return bench
