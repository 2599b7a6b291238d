"""Who is calling an agent route: an agent by its bearer token (with the scope the route needs),
or, where a route allows it, an administrator.

Wrong tokens count against the sender's address in the same throttle as wrong admin tokens. A
right agent token does not clear that count, so holding one agent's token does not help guess
the admin token.
"""

from __future__ import annotations

from starlette.requests import Request

from webhook.agents.settings import AgentScope
from webhook.agents.tokens import Agent, agent_for_token, bearer_token
from webhook.auth.admin_token import address_key
from webhook.errors import AuthError, Forbidden
from webhook.http.admin_api import require_admin
from webhook.http.state import ServerState


def _offered_agent(request: Request, services: ServerState) -> Agent | None:
    token = bearer_token(request.headers.get("authorization", ""))
    return agent_for_token(services.settings.agents, token) if token else None


def _check_scope(agent: Agent, scope: AgentScope | None) -> Agent:
    if scope is not None and not agent.settings.may(scope):
        raise Forbidden(f"agent {agent.name!r} does not have the {scope!r} scope "
                        f"(its scopes: {', '.join(agent.settings.scopes)})")
    return agent


async def require_agent(
    request: Request, scope: AgentScope | None
) -> tuple[ServerState, Agent]:
    """The server's state and the calling agent, once its token is right and has `scope`
    (None: any scope)."""
    services = ServerState.of(request)
    address = address_key(request, services.settings.trusted_proxies)
    services.admin_throttle.check(address)
    agent = _offered_agent(request, services)
    if agent is None:
        services.admin_throttle.failed(address)
        raise AuthError("agent token required: Authorization: Bearer <token>")
    return services, _check_scope(agent, scope)


async def require_agent_or_admin(
    request: Request, scope: AgentScope
) -> tuple[ServerState, Agent | None]:
    """Like `require_agent`, but an administrator passes too (as None)."""
    services = ServerState.of(request)
    address = address_key(request, services.settings.trusted_proxies)
    services.admin_throttle.check(address)
    agent = _offered_agent(request, services)
    if agent is not None:
        return services, _check_scope(agent, scope)
    return await require_admin(request), None
