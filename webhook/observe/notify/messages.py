"""What a notification says, and how each kind of receiver wants it posted."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from webhook.auth.signatures import signature_headers
from webhook.journal import SignalRecord, SignalStatus
from webhook.observe.events import SignalEvent
from webhook.observe.notify.targets import NotificationEvent, NotificationTarget

_HEADLINES = {
    "filled": "FILLED",
    "partially_filled": "PARTIALLY FILLED",
    "placed": "PLACED",
    "cancelled": "CANCELLED",
    "failed": "FAILED",
    "unknown": "NEEDS ATTENTION",
    "rejected": "REJECTED",
    "expired": "EXPIRED (not sent)",
    "awaiting_approval": "APPROVAL NEEDED",
    "declined": "DECLINED (not sent)",
}
_SETTLED_WAITING = frozenset({SignalStatus.DECLINED, SignalStatus.EXPIRED, SignalStatus.REJECTED})
"""How a signal awaiting approval may end that is told: approved ones are told by their fill."""
APPROVE, DECLINE = "approve", "decline"
"""The actions of a Telegram button's `callback_data` (`approve:SIGNAL_ID`)."""


class Notification(BaseModel):
    """One message, the same for every target; `id` stays the same across retries."""

    model_config = ConfigDict(frozen=True)

    id: str
    event: NotificationEvent
    at: float
    text: str
    signal_id: str | None = None
    data: dict[str, Any] = {}


def notification_for(
    event: SignalEvent, record: SignalRecord | None, *, dashboard_url: str | None = None
) -> Notification | None:
    """The notification an event deserves, or None (most events deserve none). A signal
    awaiting approval is told with a link to the dashboard's approval panel."""
    if event.kind == "kill_switch" and event.engaged is not None:
        state = "ENGAGED: no order will be executed" if event.engaged else "released"
        return Notification(
            id=f"ntf_kill_switch_{int(event.at * 1000)}", event="kill_switch", at=event.at,
            text=f"tradehook: kill switch {state}", data={"engaged": event.engaged},
        )
    if event.kind == "position_mismatch" and event.signal_id is not None:
        return Notification(
            id=f"ntf_{event.signal_id}_position_mismatch", event="position_mismatch",
            at=event.at, text=f"tradehook: POSITION MISMATCH {_describe(event, record)}: "
            f"{event.reason} (signal {event.signal_id})", signal_id=event.signal_id,
            data={"status": event.status, "plugin": event.plugin, "reason": event.reason,
                  "source": event.source},
        )
    if event.kind == "exit" and event.signal_id is not None:
        return Notification(
            id=f"ntf_{event.signal_id}_exit_{int(event.at * 1000)}", event="exit", at=event.at,
            text=f"tradehook: exit of {_describe(event, record)}: {event.reason} "
            f"(signal {event.signal_id})", signal_id=event.signal_id,
            data={"plugin": event.plugin, "reason": event.reason, "plan": event.outcome},
        )
    status = event.status
    wanted = (event.final
              or (event.kind == "decided" and status in (SignalStatus.REJECTED,
                                                         SignalStatus.AWAITING_APPROVAL))
              or (event.kind == "approval" and status in _SETTLED_WAITING))
    if not wanted or status is None or event.signal_id is None:
        return None
    name: NotificationEvent = status.value  # type: ignore[assignment]
    detail = event.reason or event.error
    if record is not None and record.result is not None and not detail:
        result = record.result
        price = f" at {result.average_price:g}" if result.average_price else ""
        detail = f"order {result.order_id}{price}" if result.order_id else None
    text = f"tradehook: {_HEADLINES[name]} {_describe(event, record)}"
    if status is SignalStatus.UNKNOWN:
        text += " (the broker may or may not hold this order: check it)"
    if detail:
        text += f": {detail}"
    text += f" (signal {event.signal_id})"
    if status is SignalStatus.AWAITING_APPROVAL and dashboard_url:
        text += f"; approve or decline: {dashboard_url.rstrip('/')}/#approvals"
    data: dict[str, Any] = {"status": name, "plugin": event.plugin, "reason": event.reason,
                            "error": event.error, "source": event.source}
    if record is not None:
        data["order"] = record.order.model_dump(mode="json") if record.order else None
        data["result"] = record.result.model_dump(mode="json") if record.result else None
    return Notification(
        id=f"ntf_{event.signal_id}_{name}", event=name, at=event.at, text=text,
        signal_id=event.signal_id, data=data,
    )


def approval_buttons(signal_id: str) -> dict[str, Any]:
    """An `InlineKeyboardMarkup` of one row, Approve and Decline, whose presses come back to
    the command poller as `callback_query` updates carrying `callback_data` (at most 64 bytes;
    https://core.telegram.org/bots/api#inlinekeyboardmarkup)."""
    return {"inline_keyboard": [[
        {"text": "Approve", "callback_data": f"{APPROVE}:{signal_id}"},
        {"text": "Decline", "callback_data": f"{DECLINE}:{signal_id}"},
    ]]}


def _describe(event: SignalEvent, record: SignalRecord | None) -> str:
    order = record.order if record is not None else None
    if order is None:
        what = event.symbol or "signal"
    else:
        parts = [order.action.value if order.action.value != "open" else "", order.side,
                 f"{order.quantity:g}" if order.quantity else "", order.symbol]
        what = " ".join(p for p in parts if p)
    return f"{what} via {event.plugin}" if event.plugin else what


_DISCORD_MARKUP = re.compile(r"([\\*_~`|>\[\]<])")


def slack_text(text: str) -> str:
    """Alert text as Slack shows it literally: `&`, `<` and `>` are Slack's control characters
    (`<!channel>`, `<@U123>`, `<url|label>`) and must be sent as HTML entities
    (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def discord_text(text: str) -> str:
    """Alert text as Discord shows it literally: each markdown character gets a backslash
    (https://support.discord.com/hc/en-us/articles/210298617); mentions are kept from pinging
    anyone by `allowed_mentions` (https://discord.com/developers/docs/resources/message)."""
    return _DISCORD_MARKUP.sub(r"\\\1", text)


def request_for(target: NotificationTarget, note: Notification) -> tuple[bytes, dict[str, str]]:
    """The body and headers to post to `target`."""
    payload: dict[str, Any]
    if target.kind == "telegram":
        payload = {"chat_id": target.chat_id, "text": note.text,
                   "disable_web_page_preview": True}
        if note.event == "awaiting_approval" and target.commands and note.signal_id:
            payload["reply_markup"] = approval_buttons(note.signal_id)
    elif target.kind == "discord":
        payload = {"content": discord_text(note.text)[:2000], "allowed_mentions": {"parse": []}}
    elif target.kind == "slack":
        payload = {"text": slack_text(note.text)}
    else:
        payload = {
            "type": f"signal.{note.event}" if note.signal_id else note.event,
            "timestamp": datetime.fromtimestamp(note.at, UTC).isoformat(),
            "data": {"signal_id": note.signal_id, "text": note.text, **note.data},
        }
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {"content-type": "application/json", "user-agent": "tradehook"}
    if target.kind == "webhook" and target.secret is not None:
        headers.update(signature_headers(target.secret, body, msg_id=note.id))
    return body, headers
