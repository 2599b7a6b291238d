"""TradingView alert JSON, as users write it with placeholders and TradingView fills it in.

    {"ticker": "{{ticker}}", "exchange": "{{exchange}}", "action": "{{strategy.order.action}}",
     "contracts": "{{strategy.order.contracts}}", "price": "{{close}}",
     "position": "{{strategy.market_position}}", "order_id": "{{strategy.order.id}}",
     "time": "{{timenow}}"}

Numbers arrive as strings. A market position of `flat` means the strategy closed its position,
so the order closes it whatever size the last trade had. Fields this dialect does not know are
ignored, since alert messages often carry notes for people.
"""

from __future__ import annotations

from typing import Any

from plugins.orders import OrderAction
from webhook.dialects.common import (
    ParsedSignal,
    build_order,
    check_placeholders,
    to_number,
    to_text,
)
from webhook.errors import PayloadError

# Each order field and the names alerts use for it, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "symbol": ("ticker", "symbol"),
    "side": ("action", "side"),
    "quantity": ("contracts", "quantity", "qty"),
    "price": ("price", "limit_price"),
    "stop_price": ("stop_price",),
    "stop_loss": ("sl", "stop_loss"),
    "take_profit": ("tp", "take_profit"),
    "confidence": ("confidence",),
    "order_type": ("order_type", "type"),
    "comment": ("comment",),
}
NUMBERS = frozenset({"quantity", "price", "stop_price", "stop_loss", "take_profit", "confidence"})
SIDES = {"buy": "buy", "long": "buy", "sell": "sell", "short": "sell"}
ACTIONS = {"close": "close", "exit": "close", "flat": "close", "cancel": "cancel",
           "reverse": "reverse"}
KNOWN = frozenset(
    {alias for names in ALIASES.values() for alias in names}
    | {"exchange", "position", "market_position", "position_size", "order_id", "id", "time",
       "timenow", "plugin", "passphrase", "interval", "strategy"}
)


def looks_like_tradingview(payload: dict[str, Any]) -> bool:
    return any(key in payload for key in ("ticker", "symbol")) or bool(set(payload) & KNOWN)


def parse_tradingview(payload: dict[str, Any]) -> ParsedSignal:
    for key, value in payload.items():
        if isinstance(value, str):
            check_placeholders(key, value)
    fields: dict[str, Any] = {}
    renamed: dict[str, str] = {}
    for field, names in ALIASES.items():
        name = next((n for n in names if payload.get(n) not in (None, "")), None)
        if name is None:
            continue
        value = payload[name]
        fields[field] = to_number(name, value) if field in NUMBERS else to_text(name, value)
        renamed[field] = name
    if "symbol" not in fields:
        raise PayloadError("ticker", "missing: say which symbol to trade (ticker or symbol)")
    _read_side_and_action(fields, renamed, payload)
    if isinstance(fields.get("order_type"), str):
        fields["order_type"] = fields["order_type"].lower()
    return ParsedSignal(
        order=build_order(fields, renamed=renamed),
        dialect="tradingview",
        plugin=_text_or_none(payload, "plugin"),
        idempotency_key=_idempotency_key(payload),
        passphrase=_text_or_none(payload, "passphrase"),
    )


def _read_side_and_action(
    fields: dict[str, Any], renamed: dict[str, str], payload: dict[str, Any]
) -> None:
    word = str(fields.pop("side", "")).lower()
    side_name = renamed.get("side", "action")
    if word in ACTIONS:
        fields["action"] = ACTIONS[word]
    elif word in SIDES:
        fields["side"] = SIDES[word]
    elif word:
        raise PayloadError(side_name, f"expected buy or sell (or close, cancel), got {word!r}")
    position = str(payload.get("market_position") or payload.get("position") or "").lower()
    if position and position not in ("long", "short", "flat"):
        name = "market_position" if "market_position" in payload else "position"
        raise PayloadError(name, f"expected long, short or flat, got {position!r}")
    if position == "flat":
        # The strategy is flat after this order: close the whole position, whatever its size.
        fields["action"] = OrderAction.CLOSE.value
        fields.pop("quantity", None)


def _idempotency_key(payload: dict[str, Any]) -> str | None:
    if payload.get("id") not in (None, ""):
        return to_text("id", payload["id"])
    order_id, when = payload.get("order_id"), payload.get("time") or payload.get("timenow")
    if order_id not in (None, "") and when not in (None, ""):
        return f"{to_text('order_id', order_id)}@{to_text('time', when)}"
    return None


def _text_or_none(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return None if value in (None, "") else to_text(key, value)
