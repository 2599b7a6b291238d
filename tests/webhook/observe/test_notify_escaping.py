"""Alert text reaches Slack and Discord as text: it cannot ping a channel or forge a link."""

from __future__ import annotations

import json

from webhook.observe.notify.messages import Notification, request_for
from webhook.observe.notify.targets import NotificationTarget

HOSTILE = "tradehook: REJECTED <!channel> <@U123> <https://evil.example|bank> **x** @everyone"


def note() -> Notification:
    return Notification(id="ntf_1", event="rejected", at=0.0, text=HOSTILE)


def target(kind: str, url: str) -> NotificationTarget:
    return NotificationTarget.model_validate({"kind": kind, "url": url})


def test_slack_gets_its_control_characters_as_entities() -> None:
    body, _ = request_for(target("slack", "https://hooks.slack.com/services/T/B/x"), note())
    text = json.loads(body)["text"]
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt;" in text and "&lt;https://evil.example|bank&gt;" in text


def test_discord_gets_markdown_escaped_and_no_mentions() -> None:
    body, _ = request_for(target("discord", "https://discord.com/api/webhooks/1/x"), note())
    payload = json.loads(body)
    assert payload["allowed_mentions"] == {"parse": []}
    assert "\\*\\*x\\*\\*" in payload["content"] and "\\<@U123\\>" in payload["content"]
