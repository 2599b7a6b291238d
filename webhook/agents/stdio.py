"""`tradehook mcp`: the MCP server over stdio, for a desktop agent or an IDE that starts it.

It holds no journal and no plugin of its own: every tool calls the running server's agent API
at `url` with the agent's token, so what an agent does this way is what its token may do over
HTTP, journaled and guarded by that server.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.mcpserver import Context

from webhook.agents.mcp_tools import build_mcp_server
from webhook.client import AgentClient

DEFAULT_SERVER_URL = "http://127.0.0.1:8000"
TOKEN_VARIABLE = "TRADEHOOK_AGENT_TOKEN"  # noqa: S105 - the name of a variable, not a token


async def serve_stdio(url: str, token: str) -> None:
    caller = "token-" + hashlib.sha256(token.encode()).hexdigest()[:16]
    async with AgentClient(url, token) as client:

        @asynccontextmanager
        async def client_for(ctx: Context) -> AsyncIterator[AgentClient]:
            yield client

        await build_mcp_server(client_for, lambda ctx: caller).run_stdio_async()
