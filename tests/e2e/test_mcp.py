"""The MCP server, driven by the official SDK's own client over both transports: streamable
HTTP at `/mcp` of the real `tradehook serve`, and stdio through `tradehook mcp` talking to it."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.server import RunningServer, start_server, tradehook_command

TRADER = "trader-agent-token-5d1e8b3f7a2c"
WATCHER = "watcher-agent-token-9a4c2e6f1b8d"
CONFIG = """
[plugins.paper]
type = "mock"
delay_ms = 0

[agents.trader]
scopes = ["read", "preview", "submit"]

[agents.watcher]
scopes = ["read"]
"""
BUY = {"symbol": "BTC/USDT", "side": "buy", "quantity": 0.01, "confidence": 0.8}
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def agents_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("mcp"), config_toml=CONFIG, env={
        "TRADEHOOK_AGENTS__TRADER__TOKEN": TRADER, "TRADEHOOK_AGENTS__WATCHER__TOKEN": WATCHER,
    })
    yield running
    running.stop()


@asynccontextmanager
async def over_http(server: RunningServer, token: str) -> AsyncIterator[Client]:
    http = httpx2.AsyncClient(headers={"authorization": f"Bearer {token}"}, timeout=20)
    async with http, Client(streamable_http_client(f"{server.url}/mcp", http_client=http),
                            mode="legacy") as client:
        yield client


@asynccontextmanager
async def over_stdio(server: RunningServer, token: str) -> AsyncIterator[Client]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEHOOK_")}
    env["TRADEHOOK_AGENT_TOKEN"] = token
    params = StdioServerParameters(command=tradehook_command(),
                                   args=["mcp", "--url", server.url], env=env)
    async with Client(params, mode="legacy") as client:
        yield client


TRANSPORTS = {"http": over_http, "stdio": over_stdio}


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def stored(server: RunningServer) -> list[dict[str, Any]]:
    answer = server.admin_get("/api/signals", limit=500)
    return list(answer.json()["signals"])


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_tools_are_listed_with_schemas_and_annotations(
    agents_server: RunningServer, transport: str
) -> None:
    async with TRANSPORTS[transport](agents_server, TRADER) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) >= {"preview_signal", "submit_signal", "get_signal", "list_signals",
                          "wait_for_signal", "get_limits", "get_balance", "get_positions",
                          "engage_kill_switch"}
    schema = json.dumps(tools["submit_signal"].input_schema)
    assert "confidence" in schema and "order_type" in schema and "idempotency_key" in schema
    assert tools["preview_signal"].annotations.read_only_hint is True
    assert tools["submit_signal"].annotations.destructive_hint is True
    assert tools["engage_kill_switch"].annotations.destructive_hint is False


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_preview_stores_nothing(agents_server: RunningServer, transport: str) -> None:
    before = len(stored(agents_server))
    async with TRANSPORTS[transport](agents_server, TRADER) as client:
        preview = structured(await client.call_tool("preview_signal", {"signal": BUY}))
    assert preview["status"] == "queued" and preview["stored"] is False
    assert preview["plugin"] == "paper"
    assert len(stored(agents_server)) == before


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_submit_with_a_retried_key_gives_one_signal_and_one_order(
    agents_server: RunningServer, transport: str
) -> None:
    key = f"retry-{transport}"
    async with TRANSPORTS[transport](agents_server, TRADER) as client:
        first = structured(await client.call_tool(
            "submit_signal", {"signal": BUY, "idempotency_key": key}))
        again = structured(await client.call_tool(
            "submit_signal", {"signal": BUY, "idempotency_key": key}))
        settled = structured(await client.call_tool(
            "wait_for_signal", {"signal_id": first["signal_id"], "timeout_seconds": 20}))
    assert first["status"] == "queued"
    assert again == {"status": "duplicate", "signal_id": first["signal_id"]}
    assert settled["status"] == "filled" and settled["source"] == "agent:trader"
    async with TRANSPORTS[transport](agents_server, TRADER) as client:
        held = structured(await client.call_tool(
            "get_positions", {"plugin": "paper", "symbols": ["BTC/USDT"]}))
        balance = structured(await client.call_tool("get_balance", {"plugin": "paper"}))
    assert held["positions"]["BTC/USDT"] >= 0.01 and balance["equity"] > 0
    mine = [s for s in stored(agents_server) if s["id"] == first["signal_id"]]
    assert len(mine) == 1
    record = agents_server.signal(first["signal_id"])
    assert len(record["attempts"]) == 1  # one paper order


async def test_a_call_retried_without_a_key_is_not_doubled(agents_server: RunningServer) -> None:
    signal = {**BUY, "quantity": 0.02, "comment": "derived-key"}
    async with over_http(agents_server, TRADER) as client:
        first = structured(await client.call_tool("submit_signal", {"signal": signal}))
        again = structured(await client.call_tool("submit_signal", {"signal": signal}))
    assert again == {"status": "duplicate", "signal_id": first["signal_id"]}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_token_without_submit_scope_is_refused(
    agents_server: RunningServer, transport: str
) -> None:
    before = len(stored(agents_server))
    async with TRANSPORTS[transport](agents_server, WATCHER) as client:
        result = await client.call_tool("submit_signal", {"signal": BUY})
    assert result.is_error and "'submit' scope" in result.content[0].text
    assert len(stored(agents_server)) == before


async def test_a_wrong_token_is_refused_over_http(agents_server: RunningServer) -> None:
    answer = httpx2.post(f"{agents_server.url}/mcp", json={"jsonrpc": "2.0", "id": 1,
                         "method": "tools/list"},
                         headers={"authorization": "Bearer not-an-agent-token-000000000"})
    assert answer.status_code == 401
    assert httpx2.post(f"{agents_server.url}/mcp", json={}).status_code == 401


async def test_engage_kill_switch_works_and_no_tool_releases_it(
    tmp_path: Path,
) -> None:
    server = start_server(tmp_path / "ks", config_toml=CONFIG, env={
        "TRADEHOOK_AGENTS__TRADER__TOKEN": TRADER, "TRADEHOOK_AGENTS__WATCHER__TOKEN": WATCHER,
    })
    try:
        async with over_stdio(server, WATCHER) as client:
            engaged = structured(await client.call_tool(
                "engage_kill_switch", {"reason": "drawdown limit"}))
            tools = (await client.list_tools()).tools
        assert engaged["engaged"] is True and "agent watcher" in engaged["reason"]
        for tool in tools:
            assert "release" not in tool.name
            assert "engaged" not in json.dumps(tool.input_schema.get("properties", {}))
        async with over_http(server, TRADER) as client:
            refused = structured(await client.call_tool("submit_signal", {"signal": BUY}))
        assert refused["status"] == "rejected" and refused["rule"] == "kill_switch"
        assert server.admin_get("/api/kill-switch").json()["engaged"] is True
    finally:
        server.stop()
