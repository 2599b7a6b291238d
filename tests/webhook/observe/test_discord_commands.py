"""Discord slash commands through `POST /discord/NAME`, signed as Discord signs them with a key
pair made here: PING answered, bad signatures refused, commands obeyed only from the configured
channels and users, `/kill` engages the kill switch and nothing releases it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from tests.fakes.discord import FakeDiscordApi
from tests.webhook.auth.test_discord_signatures import KEY, PUBLIC, discord_headers
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings

SECRET = WebhookSecret.generate()
ADMIN = {"authorization": "Bearer discord-admin-token-8e2f4a6c1b"}
DESK, OTHER_CHANNEL, TRADER, STRANGER = "1100000000000000001", "1100000000000000009", "42", "666"


def settings(tmp_path: Path, **extra: Any) -> Settings:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": ADMIN["authorization"].split()[1],
        "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0}}, "default_plugin": "paper",
        "notifications": {
            "desk": {"kind": "discord", "url": "http://127.0.0.1:9/hook", "events": [],
                     "commands": True, "public_key": PUBLIC, "command_channels": [DESK],
                     "command_users": [TRADER]},
            "quiet": {"kind": "discord", "url": "http://127.0.0.1:9/hook", "events": []},
        },
    }
    return Settings.model_validate(config | extra)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(tmp_path))) as running:
        yield running


def command(name: str, *, channel: str = DESK, user: str = TRADER,
            guild: str | None = "900") -> dict[str, Any]:
    """An application command as Discord posts it (a server's `member.user`, a DM's `user`)."""
    interaction: dict[str, Any] = {"type": 2, "id": "7", "application_id": "8", "token": "tok",
                                   "version": 1, "channel_id": channel,
                                   "data": {"id": "9", "name": name, "type": 1}}
    if guild is None:
        interaction["user"] = {"id": user}
    else:
        interaction |= {"guild_id": guild, "member": {"user": {"id": user}, "roles": []}}
    return interaction


def post(client: TestClient, interaction: dict[str, Any], *, target: str = "desk",
         key: Ed25519PrivateKey = KEY) -> Any:
    body = json.dumps(interaction).encode()
    return client.post(f"/discord/{target}", content=body, headers={
        **discord_headers(body, key), "content-type": "application/json"})


def engaged(client: TestClient) -> bool:
    answer: bool = client.get("/api/kill-switch", headers=ADMIN).json()["engaged"]
    return answer


def test_a_ping_is_answered_pong(client: TestClient) -> None:
    answer = post(client, {"type": 1, "id": "1", "application_id": "8", "token": "t",
                           "version": 1})
    assert answer.status_code == 200 and answer.json() == {"type": 1}


def test_a_bad_signature_is_refused_with_401(client: TestClient) -> None:
    answer = post(client, command("kill"), key=Ed25519PrivateKey.generate())
    assert answer.status_code == 401
    assert not engaged(client)


def test_an_unsigned_request_is_refused(client: TestClient) -> None:
    answer = client.post("/discord/desk", json=command("kill"))
    assert answer.status_code == 401 and not engaged(client)


def test_kill_engages_the_kill_switch(client: TestClient) -> None:
    answer = post(client, command("kill")).json()
    assert answer["type"] == 4 and "ENGAGED" in answer["data"]["content"]
    assert "flags" not in answer["data"]  # the channel sees it
    state = client.get("/api/kill-switch", headers=ADMIN).json()
    assert state["engaged"] and f"Discord user {TRADER}" in state["reason"]
    raw = b"buy 0.1 ETHUSDT"
    refused = client.post("/webhook", content=raw, headers={
        **signature_headers(SECRET, raw), "content-type": "text/plain"}).json()
    assert refused["rule"] == "kill_switch"


@pytest.mark.parametrize("where", [
    {"channel": OTHER_CHANNEL}, {"user": STRANGER}, {"guild": None},
], ids=["unknown channel", "unknown user", "direct message"])
def test_a_command_from_elsewhere_is_refused_privately(
    client: TestClient, where: dict[str, Any]
) -> None:
    answer = post(client, command("kill", **where)).json()
    assert answer["data"]["flags"] == 64 and "may not command" in answer["data"]["content"]
    assert not engaged(client)


def test_status_and_signals_answer(client: TestClient) -> None:
    raw = b"buy 0.1 ETHUSDT"
    client.post("/webhook", content=raw, headers={
        **signature_headers(SECRET, raw), "content-type": "text/plain"})
    status = post(client, command("status")).json()["data"]["content"]
    assert "kill switch released" in status and "paper: healthy" in status
    signals = post(client, command("signals")).json()["data"]["content"]
    assert "buy 0.1 ETHUSDT" in signals


def test_nothing_releases_the_kill_switch_and_unknown_commands_get_help(
    client: TestClient
) -> None:
    post(client, command("kill"))
    answer = post(client, command("release")).json()
    assert "/kill: engage the kill switch" in answer["data"]["content"]
    assert engaged(client)


@pytest.mark.parametrize("target", ["quiet", "nowhere"])
def test_a_target_without_commands_has_no_endpoint(client: TestClient, target: str) -> None:
    assert post(client, command("status"), target=target).status_code == 404


def test_a_signed_body_that_is_not_an_interaction_is_a_400(client: TestClient) -> None:
    body = b'["not", "an", "interaction"]'
    answer = client.post("/discord/desk", content=body, headers={
        **discord_headers(body), "content-type": "application/json"})
    assert answer.status_code == 400


@pytest.mark.parametrize(("fields", "problem"), [
    ({"public_key": None}, "public_key"),
    ({"public_key": "00ff"}, "64 hexadecimal"),
    ({"command_channels": []}, "command_channels"),
])
def test_a_discord_target_with_commands_needs_its_key_and_channels(
    fields: dict[str, Any], problem: str
) -> None:
    target = {"kind": "discord", "url": "http://127.0.0.1:9/hook", "commands": True,
              "public_key": PUBLIC, "command_channels": [DESK], **fields}
    with pytest.raises(ValueError, match=problem):
        Settings.model_validate({"notifications": {"desk": target}})


def test_a_slow_command_is_deferred_and_its_reply_edits_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /positions asks every broker; one that takes longer than Discord waits gets "thinking"
    # (type 5) at once, then the reply in place of it through Discord's API.
    monkeypatch.setattr("webhook.observe.notify.discord_commands.DEFER_AFTER", 0.05)
    fake = FakeDiscordApi("8", "tok")
    fake.start()
    config: dict[str, Any] = {
        "secret": [SECRET], "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0}}, "default_plugin": "paper",
        "notifications": {"desk": {
            "kind": "discord", "url": f"{fake.url}/api/webhooks/123/secret-part", "events": [],
            "commands": True, "public_key": PUBLIC, "command_channels": [DESK]}},
    }
    try:
        with TestClient(create_app(Settings.model_validate(config))) as client:
            paper = client.app.state.services.registry.get("paper")  # type: ignore[attr-defined]
            real = paper.fetch_balance

            async def slow() -> Any:
                await asyncio.sleep(0.3)
                return await real()

            monkeypatch.setattr(paper, "fetch_balance", slow)
            answer = post(client, command("positions"))
            assert answer.status_code == 200 and answer.json() == {"type": 5}
        # The response's background task has run by the time the client has the whole answer.
        [edit] = fake.edits
        assert edit["content"].startswith("paper: equity") and "flags" not in edit
        assert edit["allowed_mentions"] == {"parse": []}
    finally:
        fake.stop()


def test_a_quick_command_is_answered_in_the_response_itself(client: TestClient) -> None:
    answer = post(client, command("status")).json()
    assert answer["type"] == 4 and "kill switch released" in answer["data"]["content"]


def test_approve_and_decline_take_the_signal_id(tmp_path: Path) -> None:
    waiting = settings(tmp_path, sources={"signed": {"approval": "always"}})
    with TestClient(create_app(waiting)) as client:
        ids = []
        for _ in range(2):
            raw = b"buy 0.1 ETHUSDT"
            ids.append(client.post("/webhook", content=raw, headers={
                **signature_headers(SECRET, raw), "content-type": "text/plain"}
            ).json()["signal_id"])
        approve = command("approve")
        approve["data"]["options"] = [{"name": "signal", "type": 3, "value": ids[0]}]
        decline = command("decline")
        decline["data"]["options"] = [{"name": "signal", "type": 3, "value": ids[1]}]
        approved = post(client, approve).json()["data"]["content"]
        declined = post(client, decline).json()["data"]["content"]
        missing = post(client, command("approve")).json()["data"]["content"]
        statuses = [client.get(f"/api/signals/{i}", headers=ADMIN).json()["status"] for i in ids]
    assert ids[0] in approved and "approved" in approved
    assert ids[1] in declined and "declined" in declined
    assert statuses[1] == "declined" and statuses[0] != "awaiting_approval"
    assert missing == "/approve needs the signal's id: /approve signal:ID"
