"""What an agent's settings forbid it to send: plugins and symbols outside its lists."""

from __future__ import annotations

from dataclasses import dataclass

from webhook.agents.settings import AgentSettings


@dataclass(frozen=True)
class AgentRefusal:
    rule: str
    """The setting that refused it, e.g. `agents.scout.symbols`."""
    reason: str


def outside_limits(
    name: str, agent: AgentSettings | None, plugin: str, symbol: str
) -> AgentRefusal | None:
    """Why agent `name` may not send an order for `symbol` (as its signal names it) to
    `plugin`, or None when it may. An agent that is no longer configured may send nothing."""
    key = f"agents.{name}"
    if agent is None:
        return AgentRefusal(key, f"{key}: agent {name!r} is not configured")
    if agent.plugins and plugin not in agent.plugins:
        return AgentRefusal(f"{key}.plugins", f"{key}.plugins: agent {name!r} may not use plugin "
                            f"{plugin!r} (allowed: {', '.join(agent.plugins)})")
    if agent.symbols and symbol not in agent.symbols:
        return AgentRefusal(f"{key}.symbols", f"{key}.symbols: agent {name!r} may not trade "
                            f"{symbol!r} (allowed: {', '.join(agent.symbols)})")
    return None
