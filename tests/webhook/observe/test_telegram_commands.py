"""Chat commands over the Bot API, in the running app, against a local fake Bot API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.fakes.telegram import FakeBotApi
from webhook.app import create_app
from webhook.auth.signatures import WebhookSecret, signature_headers
from webhook.config.settings import Settings

SECRET = WebhookSecret.generate()
TOKEN = "123456:fake-bot-token-for-tests"
ADMIN = {"authorization": "Bearer telegram-admin-token-6c2e9a1f0b"}
OWNER, PARTNER, STRANGER = 111, 222, 999


@pytest.fixture
def bot() -> Iterator[FakeBotApi]:
    fake = FakeBotApi(TOKEN)
    fake.start()
    yield fake
    fake.stop()


def _app(tmp_path: Path, bot: FakeBotApi, **target: Any) -> TestClient:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": ADMIN["authorization"].split()[1],
        "journal": f"sqlite:///{tmp_path / 'j.db'}",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0, "prices": {"ETHUSDT": 2000}}},
        "notifications": {"phone": {"kind": "telegram", "url": bot.send_url,
                                    "chat_id": str(OWNER), "events": ["expired"],
                                    "commands": True, **target}},
    }
    return TestClient(create_app(Settings.model_validate(config)))


def _reply(bot: FakeBotApi, chat: int, count: int = 1) -> list[str]:
    for _ in range(200):  # the app polls by itself; wait for its answer, at most ~10 s
        replies = bot.replies_to(chat)
        if len(replies) >= count:
            return replies
        time.sleep(0.05)
    raise AssertionError(f"no answer to chat {chat}; sent: {bot.sent}")


def _engaged(client: TestClient) -> bool:
    state: bool = client.get("/api/kill-switch", headers=ADMIN).json()["engaged"]
    return state


def test_kill_from_the_configured_chat_engages_the_kill_switch(
    tmp_path: Path, bot: FakeBotApi
) -> None:
    with _app(tmp_path, bot) as client:
        assert not _engaged(client)
        bot.write(OWNER, "/kill")
        assert "kill switch ENGAGED" in _reply(bot, OWNER)[0]
        assert _engaged(client)
        raw = b"buy 0.1 ETHUSDT"
        answer = client.post("/webhook", content=raw, headers={
            **signature_headers(SECRET, raw), "content-type": "text/plain"})
        assert answer.json()["status"] == "rejected"
        bot.write(OWNER, "/status")
        assert "kill switch ENGAGED" in _reply(bot, OWNER, 2)[1]


def test_a_command_from_an_unknown_chat_is_refused_and_does_nothing(
    tmp_path: Path, bot: FakeBotApi
) -> None:
    with _app(tmp_path, bot) as client:
        bot.write(STRANGER, "/kill")
        assert _reply(bot, STRANGER) == ["This chat may not command tradehook."]
        bot.write(OWNER, "/status")  # answered after the stranger's: the stranger was handled
        assert "kill switch released" in _reply(bot, OWNER)[0]
        assert not _engaged(client)


def test_command_chats_replace_chat_id_and_signals_lists_the_newest(
    tmp_path: Path, bot: FakeBotApi
) -> None:
    with _app(tmp_path, bot, command_chats=[str(PARTNER)]) as client:
        raw = b"sell 0.3 ETHUSDT"
        client.post("/webhook", content=raw, headers={
            **signature_headers(SECRET, raw), "content-type": "text/plain"})
        bot.write(PARTNER, "/signals")
        assert "sell 0.3 ETHUSDT (signed)" in _reply(bot, PARTNER)[0]
        bot.write(PARTNER, "/positions")
        assert "paper: equity" in _reply(bot, PARTNER, 2)[1]
        bot.write(OWNER, "/kill")
        assert _reply(bot, OWNER) == ["This chat may not command tradehook."]
        assert not _engaged(client)


def test_no_commands_without_the_setting(tmp_path: Path, bot: FakeBotApi) -> None:
    with _app(tmp_path, bot, commands=False):
        bot.write(OWNER, "/kill")
        time.sleep(0.5)  # a poller, if one ran, would have asked by now
        assert bot.polls == 0
        assert bot.replies_to(OWNER) == []


def test_commands_on_a_non_telegram_target_name_the_field() -> None:
    with pytest.raises(ValueError, match="only telegram and discord targets take commands"):
        Settings.model_validate({"notifications": {"hook": {
            "kind": "slack", "url": "http://127.0.0.1:9/x", "commands": True}}})


def _approval_app(tmp_path: Path, bot: FakeBotApi) -> TestClient:
    config: dict[str, Any] = {
        "secret": [SECRET], "admin_token": ADMIN["authorization"].split()[1],
        "journal": f"sqlite:///{tmp_path / 'j.db'}", "public_url": "https://hooks.example.com",
        "plugins": {"paper": {"type": "mock", "delay_ms": 0}},
        "sources": {"signed": {"approval": "always"}},
        "notifications": {"phone": {"kind": "telegram", "url": bot.send_url,
                                    "chat_id": str(OWNER), "commands": True}},
    }
    return TestClient(create_app(Settings.model_validate(config)))


def _waiting_signal(client: TestClient, bot: FakeBotApi) -> tuple[str, dict[str, Any]]:
    raw = b"buy 0.1 ETHUSDT"
    answer = client.post("/webhook", content=raw, headers={
        **signature_headers(SECRET, raw), "content-type": "text/plain"}).json()
    assert answer["status"] == "awaiting_approval"
    _reply(bot, OWNER)
    message = next(m for m in bot.sent if "APPROVAL NEEDED" in m["text"])
    return answer["signal_id"], message


def _status(client: TestClient, signal_id: str, leaving: str) -> str:
    for _ in range(200):  # bounded: the poller answers the press within a few turns
        status: str = client.get(f"/api/signals/{signal_id}", headers=ADMIN).json()["status"]
        if status not in (leaving, "queued", "executing"):
            return status
        time.sleep(0.05)
    return status


def test_the_approval_message_links_the_dashboard_and_its_button_approves(
    tmp_path: Path, bot: FakeBotApi
) -> None:
    with _approval_app(tmp_path, bot) as client:
        signal_id, message = _waiting_signal(client, bot)
        assert "https://hooks.example.com/#approvals" in message["text"]
        bot.press(OWNER, message, "Approve")
        assert _status(client, signal_id, "awaiting_approval") == "filled"
        assert _notices(bot, 1)[0]["text"] == f"signal {signal_id} approved"
        assert f"signal {signal_id} approved" in _reply(bot, OWNER, 2)
        assert bot.edits and "reply_markup" not in bot.edits[0]  # the buttons are gone
        bot.press(OWNER, message, "Approve")  # pressed again: no second order
        assert "no longer awaiting approval" in _notices(bot, 2)[1]["text"]
        paper = client.app.state.services.registry.get("paper")  # type: ignore[attr-defined]
        assert paper.position("ETHUSDT") == pytest.approx(0.1)


def test_a_button_from_another_chat_does_nothing(tmp_path: Path, bot: FakeBotApi) -> None:
    with _approval_app(tmp_path, bot) as client:
        signal_id, message = _waiting_signal(client, bot)
        bot.press(STRANGER, message, "Approve")
        assert _notices(bot, 1)[0]["text"] == "This chat may not command tradehook."
        bot.press(OWNER, message, "Decline")
        assert _status(client, signal_id, "awaiting_approval") == "declined"


def _notices(bot: FakeBotApi, count: int) -> list[dict[str, Any]]:
    for _ in range(200):  # bounded: the poller answers a press within a few turns
        if len(bot.notices) >= count:
            break
        time.sleep(0.05)
    return bot.notices
