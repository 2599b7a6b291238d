"""What the approval queue tells the notification targets: a waiting signal with a link (and,
for a Telegram target that takes commands, its buttons); how a wait ended, unless approved."""

from __future__ import annotations

import json

from pydantic import SecretStr

from webhook.journal import SignalStatus
from webhook.observe.events import SignalEvent
from webhook.observe.notify.messages import notification_for, request_for
from webhook.observe.notify.targets import NotificationTarget

WAITING = SignalEvent(kind="decided", signal_id="01SIGNAL", status=SignalStatus.AWAITING_APPROVAL,
                      plugin="paper", symbol="ETHUSDT", reason="awaiting approval: always")


def telegram(commands: bool) -> NotificationTarget:
    return NotificationTarget(kind="telegram", url=SecretStr("https://api.telegram.org/bot1:x/"
                                                             "sendMessage"),
                              chat_id="42", commands=commands)


def test_a_waiting_signal_is_told_with_a_link_to_the_approval_panel() -> None:
    note = notification_for(WAITING, None, dashboard_url="https://hooks.example.com/")
    assert note is not None and note.event == "awaiting_approval"
    assert note.text.startswith("tradehook: APPROVAL NEEDED ETHUSDT via paper")
    assert note.text.endswith("approve or decline: https://hooks.example.com/#approvals")


def test_only_a_telegram_target_that_takes_commands_gets_the_buttons() -> None:
    note = notification_for(WAITING, None, dashboard_url="http://127.0.0.1:8000")
    assert note is not None
    with_buttons = json.loads(request_for(telegram(commands=True), note)[0])
    rows = with_buttons["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in rows[0]] == ["approve:01SIGNAL", "decline:01SIGNAL"]
    assert "reply_markup" not in json.loads(request_for(telegram(commands=False), note)[0])


def test_declined_expired_and_refused_are_told_and_an_approval_is_not() -> None:
    told = {}
    for status in (SignalStatus.DECLINED, SignalStatus.EXPIRED, SignalStatus.REJECTED,
                   SignalStatus.QUEUED):
        event = SignalEvent(kind="approval", signal_id="01SIGNAL", status=status,
                            reason=f"{status.value}: test")
        note = notification_for(event, None)
        told[status.value] = note.text if note else None
    assert told["declined"] == (
        "tradehook: DECLINED (not sent) signal: declined: test (signal 01SIGNAL)")
    assert told["expired"] is not None and told["expired"].startswith("tradehook: EXPIRED")
    assert told["rejected"] is not None and told["rejected"].startswith("tradehook: REJECTED")
    assert told["queued"] is None  # its fill is told instead
