"""The MCP SDK's side of `/mcp`: the server whose tools call this app's agent API in process.

Each tool call goes to the same app's agent API (`httpx.ASGITransport`, no network) with the
request's own bearer token, so the routes, scopes and limits are exactly those of
`/api/agent/...`. The SDK's DNS-rebinding check (a Host allowlist) is off: a page a browser was
tricked into loading cannot carry an agent's bearer token, and tradehook runs behind proxies
with their own Host.

Only `webhook.http.mcp_endpoint` imports this module, and only when agents are configured:
the SDK and what it pulls in are some 20 MB and 0.3 s that a server without agents never pays.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from webhook.agents.mcp_tools import build_mcp_server
from webhook.agents.tokens import bearer_token
from webhook.client import AgentClient

IN_PROCESS_URL = "http://tradehook.internal"


def _token(ctx: Context) -> str:
    headers = ctx.headers or {}
    return bearer_token(headers.get("authorization", "")) or ""


def mcp_server_for(app: ASGIApp) -> MCPServer:
    """The MCP server whose tools call `app`'s agent API with each request's token."""

    @asynccontextmanager
    async def client_for(ctx: Context) -> AsyncIterator[AgentClient]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
        async with AgentClient(IN_PROCESS_URL, _token(ctx), transport=transport) as client:
            yield client

    def caller(ctx: Context) -> str:
        return "token-" + hashlib.sha256(_token(ctx).encode()).hexdigest()[:16]

    return build_mcp_server(client_for, caller)


def streamable_endpoint(app: ASGIApp) -> tuple[AbstractAsyncContextManager[None], ASGIApp]:
    """A fresh MCP server for `app` over streamable HTTP (stateless, JSON answers): the
    context its session manager runs in, and the ASGI app that answers inside it. The SDK's
    session manager can run only once, so each lifespan builds its own."""
    server = mcp_server_for(app)
    inner = server.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return server.session_manager.run(), inner
