"""The MCP server: tradehook's agent API as MCP tools, on the official SDK's `MCPServer`.

Every tool reaches the running server through its HTTP agent API (`webhook.client.AgentClient`)
with the calling agent's own token, so the journal, the guarantees and the token's scopes are
the server's, whichever transport the agent came by: stdio (`tradehook mcp`, one agent, its
token from the environment) or streamable HTTP at `/mcp` (each request's bearer token). Input
schemas come from the same pydantic models as the HTTP API (`webhook.client.models`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from webhook.client import AgentClient, AgentSignal, ClientError

ClientFor = Callable[[Context], AbstractAsyncContextManager[AgentClient]]
"""How a tool call gets the client that acts for its agent."""
DERIVED_KEY_SECONDS = 600.0
"""A `submit_signal` call without a key repeats an identical call within this many seconds."""
SignalId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PluginName = Annotated[str, Field(min_length=1, max_length=64)]
SymbolName = Annotated[str, Field(min_length=1, max_length=64)]
READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


class DerivedKeys:
    """Idempotency keys for calls that gave none: the same signal from the same agent within
    DERIVED_KEY_SECONDS gets the first call's key, so a retried call cannot double."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: int = 10_000) -> None:
        self._first: dict[str, tuple[float, str]] = {}
        self._clock = clock
        self._limit = limit

    def key(self, agent: str, signal: AgentSignal) -> str:
        now = self._clock()
        digest = hashlib.sha256(agent.encode() + b"\0" + signal.body()).hexdigest()[:40]
        seen = self._first.get(digest)
        if seen is not None and now - seen[0] < DERIVED_KEY_SECONDS:
            return seen[1]
        if len(self._first) >= self._limit:
            self._first = {d: s for d, s in self._first.items()
                           if now - s[0] < DERIVED_KEY_SECONDS}
        key = f"mcp-{digest[:24]}-{secrets.token_hex(8)}"
        self._first[digest] = (now, key)
        return key


def build_mcp_server(client_for: ClientFor, agent_of: Callable[[Context], str]) -> MCPServer:
    """The tools, each calling the agent API with the client `client_for` gives for the call;
    `agent_of` names the caller (for keys derived from the call)."""
    server = MCPServer("tradehook", instructions=(
        "tradehook turns signals into broker orders behind a durable journal, a confidence "
        "threshold, risk rules and a kill switch. Preview a signal before submitting it; "
        "submit_signal is idempotent per key. Only a person can release the kill switch."))
    keys = DerivedKeys()

    async def call(ctx: Context, method: Callable[[AgentClient], Any]) -> dict[str, Any]:
        async with client_for(ctx) as client:
            try:
                result: dict[str, Any] = await method(client)
            except ClientError as exc:
                raise ToolError(str(exc)) from exc
            return result

    @server.tool(annotations=READ)
    async def preview_signal(signal: AgentSignal, ctx: Context) -> dict[str, Any]:
        """What tradehook would do with this signal now (routing, symbol mapping, threshold,
        every risk rule, sizing with the broker's balance and price). Changes nothing."""
        return await call(ctx, lambda c: c.preview(signal))

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True,
                                             idempotent_hint=True, open_world_hint=True))
    async def submit_signal(
        signal: AgentSignal, ctx: Context,
        idempotency_key: Annotated[str, Field(min_length=1, max_length=64,
                                              pattern=r"^[A-Za-z0-9_-]+$")] | None = None,
    ) -> dict[str, Any]:
        """Store the signal and execute it if it passes every check. Returns its signal_id and
        status; `awaiting_approval` means a person must approve it first (no agent can), and
        it expires unless approved in time. The same idempotency_key (or, without one, the same
        signal again within 10 minutes) gives the first signal back, never a second order."""
        key = idempotency_key or keys.key(agent_of(ctx), signal)
        return await call(ctx, lambda c: c.submit(signal, idempotency_key=key))

    @server.tool(annotations=READ)
    async def get_signal(signal_id: SignalId, ctx: Context) -> dict[str, Any]:
        """One of this agent's signals: its order, decision, attempts and result."""
        return await call(ctx, lambda c: c.get_signal(signal_id))

    @server.tool(annotations=READ)
    async def list_signals(
        ctx: Context, status: str | None = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        """This agent's signals, newest first, optionally of one status."""
        return await call(ctx, lambda c: c.list_signals(status=status, limit=limit))

    @server.tool(annotations=READ)
    async def wait_for_signal(
        signal_id: SignalId, ctx: Context,
        timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 30.0,
    ) -> dict[str, Any]:
        """The signal once it has settled (filled, failed, rejected, declined, expired, ...) or
        at the timeout; one awaiting approval has not settled yet."""
        return await call(ctx, lambda c: c.wait_for_signal(signal_id, seconds=timeout_seconds))

    @server.tool(annotations=READ)
    async def get_limits(ctx: Context) -> dict[str, Any]:
        """The threshold, this agent's scopes, plugins and symbols, and the kill switch."""
        return await call(ctx, lambda c: c.limits())

    @server.tool(annotations=READ)
    async def get_balance(plugin: PluginName, ctx: Context) -> dict[str, Any]:
        """The equity and currency of the account behind a plugin (see get_limits)."""
        return await call(ctx, lambda c: c.balance(plugin))

    @server.tool(annotations=READ)
    async def get_positions(
        plugin: PluginName, symbols: Annotated[list[SymbolName], Field(min_length=1,
                                                                        max_length=20)],
        ctx: Context,
    ) -> dict[str, Any]:
        """The net position (positive long, negative short) in each symbol at a plugin, by
        the broker's symbol names."""
        async with client_for(ctx) as client:
            try:
                found = [await client.position(plugin, symbol) for symbol in symbols]
            except ClientError as exc:
                raise ToolError(str(exc)) from exc
        return {"plugin": plugin, "positions": {p["symbol"]: p["position"] for p in found}}

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                             idempotent_hint=True, open_world_hint=False))
    async def engage_kill_switch(
        reason: Annotated[str, Field(min_length=1, max_length=400)], ctx: Context
    ) -> dict[str, Any]:
        """Stop all execution at once (signals are still stored, and rejected). An agent may
        always stop trading; no tool releases it: only a person can."""
        return await call(ctx, lambda c: c.engage_kill_switch(reason))

    return server
