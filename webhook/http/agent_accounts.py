"""What an agent may read of the accounts behind its plugins (`read` scope):

- `GET /api/agent/plugins/{plugin}/balance`: the account's currency and equity.
- `GET /api/agent/plugins/{plugin}/positions/{symbol}`: the net position in `symbol` (the
  broker's name for it), positive long, negative short.

Only plugins the agent may use (its `plugins`, else all). A plugin that cannot answer within
`broker_lookup_timeout` (or cannot report that at all) is answered 503 with why.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webhook.decide.broker_lookup import BrokerLookup
from webhook.errors import FactUnavailable
from webhook.http.agent_access import require_agent


async def _lookup(request: Request, symbol: str = "") -> BrokerLookup | Response:
    services, agent = await require_agent(request, "read")
    plugin = request.path_params["plugin"]
    allowed = agent.settings.plugins or tuple(services.registry.names())
    if plugin not in allowed:
        return JSONResponse({"error": f"no plugin {plugin[:64]!r} for agent {agent.name!r}"},
                            status_code=404)
    return BrokerLookup(services.registry, plugin, symbol,
                        timeout=services.settings.broker_lookup_timeout)


async def balance(request: Request) -> Response:
    lookup = await _lookup(request)
    if isinstance(lookup, Response):
        return lookup
    try:
        found = await lookup.balance()
    except FactUnavailable as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    return JSONResponse({"plugin": lookup.plugin_name, **found.model_dump(mode="json")})


async def position(request: Request) -> Response:
    symbol = request.path_params["symbol"]
    lookup = await _lookup(request, symbol)
    if isinstance(lookup, Response):
        return lookup
    try:
        found = await lookup.position()
    except FactUnavailable as exc:
        return JSONResponse({"error": str(exc)}, status_code=503)
    return JSONResponse({"plugin": lookup.plugin_name, "symbol": symbol, "position": found})
