"""Which agent a bearer token belongs to, compared in constant time against every agent's."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from webhook.agents.settings import AgentSettings


@dataclass(frozen=True)
class Agent:
    """An agent whose token a request carried."""

    name: str
    settings: AgentSettings


def agent_for_token(agents: Mapping[str, AgentSettings], offered: str) -> Agent | None:
    """The agent whose token is `offered`, or None. Every token is compared, so the time taken
    does not tell which (or whether one) matched."""
    found: Agent | None = None
    for name, settings in agents.items():
        if hmac.compare_digest(offered.encode(), settings.token.get_secret_value().encode()):
            found = Agent(name, settings)
    return found


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, offered = authorization.partition(" ")
    if scheme.lower() != "bearer" or not offered.strip():
        return None
    return offered.strip()
