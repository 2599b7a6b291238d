"""TradingView alert JSON, as users write it with placeholders and TradingView fills it in.

    {"ticker": "{{ticker}}", "exchange": "{{exchange}}", "action": "{{strategy.order.action}}",
     "contracts": "{{strategy.order.contracts}}", "price": "{{close}}",
     "position": "{{strategy.market_position}}", "order_id": "{{strategy.order.id}}",
     "timenow": "{{timenow}}"}

Numbers arrive as strings. The market position says what the strategy holds after the order:
`flat` closes the position whatever size the last trade had; a sell that leaves the strategy
long (or a buy that leaves it short) reduces the position by the contracts; a previous market
position opposite to the new one (`prev_market_position`) reverses it, to `position_size`.
Fields this dialect does not know are ignored, since alert messages often carry notes for people.
`timenow` (when the alert fired) is the alert's own time, from which its staleness is measured;
`time` is not, since users often fill it with `{{time}}`, the opening of the alert's bar.
`exits` (a trailing stop, a break-even move, a take-profit ladder: `plugins.orders.ManagedExits`,
distances in price units) go with the entries; since one strategy alert message serves the
strategy's entries and exits alike, they are dropped from an order that closes or cancels.
"""

from __future__ import annotations

from typing import Any

from plugins.orders import OrderAction
from webhook.decide.quantities import parse_quantity_unit
from webhook.dialects.signal import (
    ParsedSignal,
    account_names,
    build_order,
    check_placeholders,
    exits_object,
    needs_default_quantity,
    to_alert_time,
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
    "time_in_force": ("time_in_force",),
}
NUMBERS = frozenset({"quantity", "price", "stop_price", "stop_loss", "take_profit", "confidence"})
SIDES = {"buy": "buy", "long": "buy", "sell": "sell", "short": "sell"}
ACTIONS = {"close": "close", "exit": "close", "flat": "close", "cancel": "cancel",
           "reverse": "reverse"}
KNOWN = frozenset(
    {alias for names in ALIASES.values() for alias in names}
    | {"exchange", "position", "market_position", "position_size", "order_id", "id", "time",
       "timenow", "plugin", "passphrase", "interval", "strategy", "quantity_unit",
       "prev_market_position", "prev_position", "prev_market_position_size",
       "market_position_size", "accounts", "exits"}
)


def looks_like_tradingview(payload: dict[str, Any]) -> bool:
    return any(key in payload for key in ("ticker", "symbol")) or bool(set(payload) & KNOWN)


def parse_tradingview(
    payload: dict[str, Any], *, default_quantity: float | None = None
) -> ParsedSignal:
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
    for key in ("order_type", "time_in_force"):
        if isinstance(fields.get(key), str):
            fields[key] = fields[key].lower()
    if payload.get("timenow") not in (None, ""):
        # `{{timenow}}` is when the alert fired; `{{time}}` is its bar's opening, often older.
        fields["alert_time"] = to_alert_time("timenow", payload["timenow"])
    exits = exits_object("exits", payload.get("exits"))
    if exits is not None and fields.get("action", OrderAction.OPEN.value) in (
            OrderAction.OPEN.value, OrderAction.REVERSE.value):
        fields["exits"] = exits
    unit = _text_or_none(payload, "quantity_unit")
    return ParsedSignal(
        order=build_order(fields, renamed=renamed, default_quantity=default_quantity),
        dialect="tradingview",
        plugin=_text_or_none(payload, "plugin"),
        idempotency_key=_idempotency_key(payload),
        passphrase=_text_or_none(payload, "passphrase"),
        quantity_unit=None if unit is None else parse_quantity_unit("quantity_unit", unit),
        default_quantity=default_quantity is not None and needs_default_quantity(fields),
        accounts=account_names("accounts", payload.get("accounts")),
        expected_position=expected_position(payload),
        resulting_position=resulting_position(payload),
    )


def _read_side_and_action(
    fields: dict[str, Any], renamed: dict[str, str], payload: dict[str, Any]
) -> None:
    word = str(fields.pop("side", "")).lower()
    side_name = renamed.get("side", "action")
    if word == "target":
        fields["action"] = OrderAction.TARGET.value
        target = resulting_position(payload)
        if target is None:
            raise PayloadError(side_name, "a target needs the position: send position_size "
                               "({{strategy.position_size}}), or market_position and "
                               "market_position_size")
        fields["target_position"] = target
        fields.pop("quantity", None)  # the contracts of the last trade: the target replaces them
        return
    if word in ACTIONS:
        fields["action"] = ACTIONS[word]
    elif word in SIDES:
        fields["side"] = SIDES[word]
    elif word:
        raise PayloadError(side_name, f"expected buy or sell (or close, cancel), got {word!r}")
    position = _position(payload, "market_position", "position")
    if position == "flat":
        # The strategy is flat after this order: close the whole position, whatever its size.
        fields["action"] = OrderAction.CLOSE.value
        fields.pop("quantity", None)
    elif position and "side" in fields and "action" not in fields:
        _read_position_change(fields, renamed, payload, position)


def _read_position_change(
    fields: dict[str, Any], renamed: dict[str, str], payload: dict[str, Any], position: str
) -> None:
    """A sell that leaves the strategy long reduces the long; a buy after which the position is
    the opposite of the previous one reverses it."""
    after = "long" if fields["side"] == "buy" else "short"
    if position != after:
        if "quantity" not in fields:
            raise PayloadError(renamed.get("side", "action"), f"a {fields['side']} that leaves "
                               f"the strategy {position} reduces the position: send contracts")
        fields["action"] = OrderAction.CLOSE.value
        return
    previous = _position(payload, "prev_market_position", "prev_position")
    if previous not in ("long", "short") or previous == position:
        return
    fields["action"] = OrderAction.REVERSE.value
    size = payload.get("position_size")
    if size not in (None, ""):
        fields["quantity"] = abs(to_number("position_size", size))
        renamed["quantity"] = "position_size"
    else:
        fields.pop("quantity", None)  # the contracts include the closing part: same size again


def resulting_position(payload: dict[str, Any]) -> float | None:
    """The strategy's net position after the alert's order: `position_size` (signed, as
    `{{strategy.position_size}}` gives it), else the market position and its absolute size
    (`{{strategy.market_position}}`, `{{strategy.market_position_size}}`)."""
    if payload.get("position_size") not in (None, ""):
        return to_number("position_size", payload["position_size"])
    position = _position(payload, "market_position", "position")
    if position == "flat":
        return 0.0
    if position and payload.get("market_position_size") not in (None, ""):
        size = abs(to_number("market_position_size", payload["market_position_size"]))
        return size if position == "long" else -size
    return None


def expected_position(payload: dict[str, Any]) -> float | None:
    """The position the strategy held before the alert's order (`prev_market_position` and
    `prev_market_position_size`), None when the alert does not say it all."""
    previous = _position(payload, "prev_market_position", "prev_position")
    if previous == "flat":
        return 0.0
    size = payload.get("prev_market_position_size")
    if not previous or size in (None, ""):
        return None
    size = abs(to_number("prev_market_position_size", size))
    return size if previous == "long" else -size


def _position(payload: dict[str, Any], *names: str) -> str:
    name = next((n for n in names if payload.get(n) not in (None, "")), names[0])
    position = to_text(name, payload.get(name) or "").lower()
    if position and position not in ("long", "short", "flat"):
        raise PayloadError(name, f"expected long, short or flat, got {position!r}")
    return position


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
