"""Discord slash commands against `tradehook serve`: the portal's PING is answered, and a
`/kill` signed as Discord signs it (a key pair made here) engages the kill switch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.server import RunningServer, start_server
from tests.webhook.auth.test_discord_signatures import PUBLIC, discord_headers

pytestmark = pytest.mark.e2e
CHANNEL = "1100000000000000001"
CONFIG = f"""
[notifications.desk]
kind = "discord"
events = []
commands = true
public_key = "{PUBLIC}"
command_channels = ["{CHANNEL}"]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(tmp_path_factory.mktemp("discord"), config_toml=CONFIG,
                           env={"TRADEHOOK_NOTIFICATIONS__DESK__URL": "http://127.0.0.1:9/x"})
    yield running
    running.stop()


def post(server: RunningServer, interaction: dict[str, Any]) -> httpx.Response:
    body = json.dumps(interaction).encode()
    return httpx.post(f"{server.url}/discord/desk", content=body, timeout=10, headers={
        **discord_headers(body), "content-type": "application/json"})


def test_ping_then_kill(server: RunningServer) -> None:
    assert post(server, {"type": 1, "id": "1", "token": "t", "version": 1}).json() == {"type": 1}
    answer = post(server, {"type": 2, "id": "2", "token": "t", "version": 1,
                           "guild_id": "9", "channel_id": CHANNEL,
                           "member": {"user": {"id": "42"}}, "data": {"name": "kill"}})
    assert answer.status_code == 200 and "ENGAGED" in answer.json()["data"]["content"]
    assert server.admin_get("/api/kill-switch").json()["engaged"] is True
    forged = httpx.post(f"{server.url}/discord/desk", json={"type": 1}, timeout=10,
                        headers={"x-signature-ed25519": "00" * 64,
                                 "x-signature-timestamp": "1"})
    assert forged.status_code == 401
