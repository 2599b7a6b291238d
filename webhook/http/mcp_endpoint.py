"""`/mcp`: the MCP server over streamable HTTP, inside the running server.

A request must carry an agent's bearer token (else 401, counted like a wrong admin token); what
answers it then is `webhook.http.mcp_server`'s. That module, and with it the MCP SDK, is
imported only by a server with agents configured: without them no request can pass, and the
server starts some 20 MB lighter and 0.3 s sooner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from webhook.errors import RequestRefused
from webhook.http.agent_access import require_agent
from webhook.http.answers import refused


class McpRoute:
    """The endpoint routed at `/mcp`: 503 outside a lifespan of the app (`running`); within
    one, agents only. Each lifespan builds a fresh MCP server and session manager, since the
    SDK's can run only once; with no agents configured (`agents` False), none."""

    def __init__(self, app: ASGIApp, *, agents: bool) -> None:
        self._app = app
        self._agents = agents
        self._live = False
        self._endpoint: ASGIApp | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        session_manager: AbstractAsyncContextManager[None] = nullcontext()
        inner: ASGIApp | None = None  # without agents every request is refused: no server
        if self._agents:
            from webhook.http.mcp_server import streamable_endpoint

            session_manager, inner = streamable_endpoint(self._app)
        async with session_manager:
            self._endpoint, self._live = inner, True
            try:
                yield
            finally:
                self._endpoint, self._live = None, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._live:
            await _unavailable("the server is not running")(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            await require_agent(request, None)
        except RequestRefused as exc:
            await (await refused(request, exc))(scope, receive, send)
            return
        if self._endpoint is None:  # an agent with none configured: never
            await _unavailable("no agents are configured")(scope, receive, send)
            return
        await self._endpoint(scope, receive, send)


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=503)
