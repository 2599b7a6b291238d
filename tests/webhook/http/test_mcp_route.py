"""`/mcp` in process: agents only, and a fresh MCP session manager for each lifespan."""

from __future__ import annotations

import subprocess
import sys
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


AGENT_HEADERS = {**HEADERS, "authorization": f"Bearer {TOKEN}"}
WITHOUT_AGENTS_NO_SDK = f"""
import sys
from starlette.testclient import TestClient
from webhook.app import create_app
from webhook.config.settings import Settings

def app(agents):
    return create_app(Settings.model_validate({{
        "journal": "sqlite:///" + sys.argv[1], "agents": agents}}))

with TestClient(app({{}})) as client:
    answer = client.post("/mcp", json={LIST_TOOLS!r}, headers={AGENT_HEADERS!r})
    assert answer.status_code == 401, answer.text
assert "mcp" not in sys.modules, "imported without agents"
with TestClient(app({{"scout": {{"token": {TOKEN!r}}}}})) as client:
    answer = client.post("/mcp", json={LIST_TOOLS!r}, headers={AGENT_HEADERS!r})
    assert answer.status_code == 200, answer.text
    assert "submit_signal" in answer.text
print("ok")
"""


def test_a_server_without_agents_never_imports_the_sdk(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_AGENTS_NO_SDK, str(tmp_path / "j.db")],
                          capture_output=True, text=True, encoding="utf-8", timeout=60,
                          check=False)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
