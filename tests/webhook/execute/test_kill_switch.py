"""The kill switch: durable state, the setting, the admin API, and queued signals held back."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings
from webhook.errors import HeldByConfiguration
from webhook.execute.kill_switch import STATE_KEY, KillSwitch, KillSwitchRequest
from webhook.journal import SignalJournal, SqliteJournal

SECRET = WebhookSecret.generate()
ADMIN = {"authorization": "Bearer switch-admin-token-9d4a2f6e1b"}


async def opened(path: Path) -> SqliteJournal:
    journal = SqliteJournal(path)
    await journal.open()
    return journal


@pytest.mark.anyio
async def test_engaged_state_survives_a_restart(tmp_path: Path) -> None:
    journal = await opened(tmp_path / "j.db")
    switch = KillSwitch(journal)
    await switch.load()
    assert not switch.engaged
    await switch.set(KillSwitchRequest(engaged=True, reason="broker outage"))
    await journal.close()

    journal = await opened(tmp_path / "j.db")
    restarted = KillSwitch(journal)
    await restarted.load()
    await journal.close()
    assert restarted.engaged
    assert restarted.state.reason == "broker outage"
    assert "engaged by the admin API at" in restarted.describe()


@pytest.mark.anyio
async def test_the_setting_engages_it_and_the_api_cannot_release_it(tmp_path: Path) -> None:
    journal = await opened(tmp_path / "j.db")
    switch = KillSwitch(journal, configured=True)
    await switch.load()
    assert switch.engaged and switch.state.changed_by == "config"
    with pytest.raises(HeldByConfiguration):
        await switch.set(KillSwitchRequest(engaged=False))
    await journal.close()


@pytest.mark.anyio
async def test_unreadable_stored_state_is_taken_as_engaged(tmp_path: Path) -> None:
    journal = await opened(tmp_path / "j.db")
    await journal.write_state(STATE_KEY, "not json")
    switch = KillSwitch(journal)
    await switch.load()
    await journal.close()
    assert switch.engaged


@pytest.mark.anyio
async def test_a_journal_without_state_keeps_it_in_memory(tmp_path: Path) -> None:
    class Stateless(SqliteJournal):
        read_state = SignalJournal.read_state
        write_state = SignalJournal.write_state

    switch = KillSwitch(Stateless(tmp_path / "j.db"))
    await switch.load()
    await switch.set(KillSwitchRequest(engaged=True))
    assert switch.engaged


def make_client(tmp_path: Path, **settings: Any) -> TestClient:
    config = {"secret": [SECRET], "admin_token": "switch-admin-token-9d4a2f6e1b",
              "journal": f"sqlite:///{tmp_path / 'j.db'}", **settings}
    return TestClient(create_app(Settings.model_validate(config)))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as running:
        yield running


def send(client: TestClient, body: bytes = b"buy 1 BTCUSDT") -> Any:
    headers = {**signature_headers(SECRET, body), "content-type": "text/plain"}
    return client.post("/webhook", content=body, headers=headers)


def switch(client: TestClient, **body: Any) -> Any:
    return client.post("/api/kill-switch", json=body, headers=ADMIN)


def test_api_engages_and_releases(client: TestClient) -> None:
    assert client.get("/api/kill-switch", headers=ADMIN).json()["engaged"] is False
    answer = switch(client, engaged=True, reason="news at 14:30")
    assert answer.status_code == 200
    assert answer.json()["engaged"] is True and answer.json()["changed_by"] == "api"

    refused = send(client)
    assert refused.status_code == 200
    assert refused.json()["status"] == "rejected"
    assert refused.json()["rule"] == "kill_switch"
    assert "news at 14:30" in refused.json()["reason"]
    stored = client.get(f"/api/signals/{refused.json()['signal_id']}", headers=ADMIN).json()
    assert stored["status"] == "rejected" and stored["attempts"] == []

    assert switch(client, engaged=False).json()["engaged"] is False
    assert send(client).status_code == 202


def test_api_needs_the_admin_token(client: TestClient) -> None:
    assert client.post("/api/kill-switch", json={"engaged": True}).status_code == 401
    assert client.get("/api/kill-switch").status_code == 401
    assert client.get("/api/kill-switch", headers=ADMIN).json()["engaged"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [(b'{"engaged": "perhaps"}', "engaged"), (b"{}", "engaged"), (b"{not json", "body"),
     (b'{"engaged": true, "why": 1}', "why"), (b"[]", "body")],
)
def test_unusable_body_is_400_naming_the_field(
    client: TestClient, body: bytes, field: str
) -> None:
    answer = client.post("/api/kill-switch", content=body,
                         headers={**ADMIN, "content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["field"] == field
    assert client.get("/api/kill-switch", headers=ADMIN).json()["engaged"] is False


def test_configured_switch_cannot_be_released_through_the_api(tmp_path: Path) -> None:
    with make_client(tmp_path, kill_switch=True) as client:
        answer = switch(client, engaged=False)
        assert answer.status_code == 409
        assert answer.json()["engaged"] is True and answer.json()["configured"] is True
        assert send(client).json()["status"] == "rejected"


def test_queued_signals_are_not_sent_once_it_is_engaged(tmp_path: Path) -> None:
    slow = {"plugins": {"paper": {"type": "mock", "delay_ms": 400}}}
    with make_client(tmp_path, **slow) as client:
        first, second = send(client).json(), send(client).json()  # one lane: one at a time
        wait_for(client, first["signal_id"], lambda status: status == "executing")
        assert switch(client, engaged=True).status_code == 200
        late = wait_for(client, second["signal_id"],
                        lambda status: status not in ("queued", "executing"))
        early = client.get(f"/api/signals/{first['signal_id']}", headers=ADMIN).json()
    assert early["status"] == "filled"  # already at the broker when the switch was engaged
    assert late["status"] == "rejected"
    assert late["attempts"][-1]["outcome"] == "kill_switch"
    assert "nothing reached the broker" in late["error"]


def wait_for(client: TestClient, signal_id: str, done: Callable[[str], bool]) -> Any:
    deadline = time.monotonic() + 10
    while True:
        record = client.get(f"/api/signals/{signal_id}", headers=ADMIN).json()
        if done(record["status"]) or time.monotonic() > deadline:
            return record
        time.sleep(0.02)
