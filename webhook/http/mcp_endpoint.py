"""`/mcp`: the MCP server over streamable HTTP, inside the running server.

A request must carry an agent's bearer token (else 401, counted like a wrong admin token); each
tool call then goes to this same app's agent API in process (`httpx.ASGITransport`, no network)
with that token, so the routes, scopes and limits are exactly those of `/api/agent/...`. The
SDK's DNS-rebinding check (a Host allowlist) is off: a page a browser was tricked into loading
cannot carry an agent's bearer token, and tradehook runs behind proxies with their own Host.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from webhook.agents.mcp_tools import build_mcp_server
from webhook.agents.tokens import bearer_token
from webhook.client import AgentClient
from webhook.errors import RequestRefused
from webhook.http.agent_access import require_agent
from webhook.http.answers import refused

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


class AgentsOnly:
    """The MCP endpoint, for requests that carry an agent's token (any scope: each tool's own
    route checks the scope it needs)."""

    def __init__(self, endpoint: ASGIApp) -> None:
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            await require_agent(request, None)
        except RequestRefused as exc:
            await (await refused(request, exc))(scope, receive, send)
            return
        await self._endpoint(scope, receive, send)


class McpRoute:
    """The endpoint routed at `/mcp`. Each lifespan of the app (`running`) builds a fresh MCP
    server and session manager, since the SDK's can run only once; outside it, 503."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._endpoint: ASGIApp | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        server = mcp_server_for(self._app)
        inner = server.streamable_http_app(
            streamable_http_path="/mcp", stateless_http=True, json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with server.session_manager.run():
            self._endpoint = AgentsOnly(inner)
            try:
                yield
            finally:
                self._endpoint = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._endpoint is None:
            response = JSONResponse({"error": "the server is not running"}, status_code=503)
            await response(scope, receive, send)
            return
        await self._endpoint(scope, receive, send)

