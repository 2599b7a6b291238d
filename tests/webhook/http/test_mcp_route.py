"""`/mcp` in process: agents only, and a fresh MCP session manager for each lifespan."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.config.settings import Settings

TOKEN = "scout-agent-token-4f8e2a6c9b1d"
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
HEADERS = {"accept": "application/json, text/event-stream",
           "mcp-protocol-version": "2025-06-18"}


def test_mcp_answers_agents_in_every_lifespan_and_no_one_else(tmp_path: Path) -> None:
    app = create_app(Settings.model_validate({
        "journal": f"sqlite:///{tmp_path / 'j.db'}", "agents": {"scout": {"token": TOKEN}}}))
    # outside a lifespan there is nothing to answer with
    assert TestClient(app).post("/mcp", json=LIST_TOOLS, headers=HEADERS).status_code == 503
    for _ in range(2):  # a restart of the same app
        with TestClient(app) as client:
            answer = client.post("/mcp", json=LIST_TOOLS,
                                 headers={**HEADERS, "authorization": f"Bearer {TOKEN}"})
            assert answer.status_code == 200, answer.text
            assert "submit_signal" in answer.text
            assert client.post("/mcp", json=LIST_TOOLS, headers=HEADERS).status_code == 401
