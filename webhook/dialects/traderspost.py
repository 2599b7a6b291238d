"""TradersPost webhook JSON, so that alerts written for TradersPost work as they are.

    {"ticker": "AAPL", "action": "buy", "sentiment": "bullish", "quantity": 10,
     "quantityType": "fixed_quantity", "orderType": "limit", "limitPrice": 191.25,
     "takeProfit": {"percent": 10}, "stopLoss": {"type": "stop", "percent": 5}}

`action` is buy, sell, exit, cancel or add; `sentiment` is the position after the trade
(bullish/long, bearish/short, flat): `sell` with `flat` closes the long, `sell` with `bullish`
sells part of a long, `sell` with `bearish` (or none) opens or adds to a short. Percent and
amount brackets are measured from the limit or stop price, else the signal price (`signalPrice`
or `price`), else the plugin's price when the signal is decided. Fields TradersPost ignores
are ignored here too; features tradehook does not have are refused, each with the reason.

A trailing stop loss on an entry, `"stopLoss": {"type": "trailing_stop", "trailAmount": 2}` (or
`"trailPercent": 5`), becomes the order's managed trailing stop (`exits.trailing_stop`), by
amount or percent, as TradersPost documents it
(https://traderspost.io/reference/strategy-field/stop-loss-type and
https://traderspost.io/reference/webhook-message/invalid-stop-loss-trail-value-required: one of
`stopLoss.trailAmount` or `stopLoss.trailPercent` is required). Refused, since the order model
has no place for them: `orderType: "trailing_stop"` with `trailAmount`/`trailPercent`, which
makes the entry or exit itself a trailing stop order
(https://traderspost.io/reference/strategy-field/exit-order-type); `action: "breakeven"` with
`breakevenOffset`, a stop exit at the position's average entry price, which tradehook does not
read from the broker (https://traderspost.io/reference/strategy-field/exit-breakeven-offset).
TradersPost documents one `takeProfit` object per signal and no take-profit ladder
(https://traderspost.io/reference/strategy-field/allow-signal-take-profit), so a list is refused:
the native dialect's `exits.take_profits` has one.
"""

from __future__ import annotations

from typing import Any

from plugins.orders import OrderAction, OrderSide
from webhook.decide.quantities import (
    PriceOffset,
    RelativeBracket,
    parse_quantity_unit,
    resolve_bracket,
)
from webhook.dialects.signal import (
    ParsedSignal,
    build_order,
    check_placeholders,
    needs_default_quantity,
    to_alert_time,
    to_number,
    to_text,
)
from webhook.errors import PayloadError

ACTIONS = ("buy", "sell", "exit", "cancel", "add")
SENTIMENTS = {"bullish": "long", "long": "long", "bearish": "short", "short": "short",
              "flat": "flat"}
ORDER_TYPES = ("market", "limit", "stop", "stop_limit")
TIME_IN_FORCE = ("day", "gtc", "opg", "cls", "ioc", "fok")
ONLY_TRADERSPOST = frozenset(
    {"sentiment", "quantityType", "orderType", "limitPrice", "stopPrice", "takeProfit",
     "stopLoss", "timeInForce", "signalPrice", "extendedHours", "test", "extras", "trailAmount",
     "trailPercent", "breakevenOffset"}
)
UNSUPPORTED = {
    **dict.fromkeys(("optionType", "intrinsicValue", "expiration", "strikeCount",
                     "strikesAway", "strikePrice"), "options are not supported"),
    **dict.fromkeys(("trailAmount", "trailPercent"),
                    "goes with orderType trailing_stop (the order itself trails), which "
                    "tradehook does not place; for a trailing stop loss on an entry send "
                    "stopLoss: {\"type\": \"trailing_stop\", \"trailAmount\": ...}"),
    "breakevenOffset": "goes with action breakeven, which tradehook does not have",
}
BREAKEVEN = ("TradersPost's breakeven is not supported: it places a stop exit at the position's "
             "average entry price, which tradehook does not read from the broker; a break-even "
             "move on an entry is the native dialect's exits.break_even")
PRICE_FIELDS = {"price": "limitPrice", "stop_price": "stopPrice",
                "stop_loss": "stopLoss.stopPrice", "take_profit": "takeProfit.limitPrice"}
"""The alert's names for the order's price fields, for messages about them."""
RENAMED = {"symbol": "ticker", "side": "action", "order_type": "orderType", "price": "limitPrice",
           "stop_price": "stopPrice", "stop_loss": "stopLoss", "take_profit": "takeProfit",
           "time_in_force": "timeInForce", "exits.trailing_stop.percent": "stopLoss.trailPercent",
           "exits.trailing_stop.amount": "stopLoss.trailAmount"}


def looks_like_traderspost(payload: dict[str, Any]) -> bool:
    action = payload.get("action")
    word = action.strip().lower() if isinstance(action, str) else ""
    return "ticker" in payload and (
        bool(set(payload) & ONLY_TRADERSPOST) or word in ("exit", "add", "cancel", "breakeven")
    )


def parse_traderspost(
    payload: dict[str, Any], *, default_quantity: float | None = None
) -> ParsedSignal:
    for key, value in payload.items():
        if isinstance(value, str):
            check_placeholders(key, value)
        if key in UNSUPPORTED and value not in (None, "", False):
            raise PayloadError(key, UNSUPPORTED[key])
    if payload.get("ticker") in (None, ""):
        raise PayloadError("ticker", "missing: say which symbol to trade")
    fields: dict[str, Any] = {"symbol": to_text("ticker", payload["ticker"])}
    _read_action(payload, fields)
    _read_order_type_and_prices(payload, fields)
    unit = None
    if payload.get("quantityType") not in (None, ""):
        unit = parse_quantity_unit("quantityType", payload["quantityType"])
    used_default = default_quantity is not None and needs_default_quantity(fields)
    bracket = _read_bracket(payload, fields)
    for key in ("confidence", "comment"):
        if payload.get(key) not in (None, ""):
            fields[key] = to_number(key, payload[key]) if key == "confidence" else to_text(
                key, payload[key])
    if payload.get("time") not in (None, ""):
        fields["alert_time"] = to_alert_time("time", payload["time"])  # `{{timenow}}`
    return ParsedSignal(
        order=build_order(fields, renamed=RENAMED, default_quantity=default_quantity),
        dialect="traderspost",
        plugin=_text_or_none(payload, "plugin"),
        idempotency_key=_text_or_none(payload, "id"),
        passphrase=_text_or_none(payload, "passphrase"),
        quantity_unit=unit,
        default_quantity=used_default,
        bracket=bracket,
        test=_flag(payload, "test"),
        price_fields=PRICE_FIELDS,
    )


def _read_action(payload: dict[str, Any], fields: dict[str, Any]) -> None:
    if isinstance(payload.get("action"), str) and payload["action"].strip().lower() == "breakeven":
        raise PayloadError("action", BREAKEVEN)
    action = _choice(payload, "action", ACTIONS)
    if action is None:
        raise PayloadError("action", f"missing: expected one of {', '.join(ACTIONS)}")
    sentiment = None
    if payload.get("sentiment") not in (None, ""):
        word = _choice(payload, "sentiment", tuple(SENTIMENTS))
        sentiment = SENTIMENTS[word] if word else None
    quantity = payload.get("quantity")
    if quantity not in (None, ""):
        fields["quantity"] = to_number("quantity", quantity)
    if action == "cancel":
        fields["action"] = OrderAction.CANCEL
        fields.pop("quantity", None)
    elif action == "exit":
        fields["action"] = OrderAction.CLOSE
        if sentiment == "flat":
            fields.pop("quantity", None)
    elif action == "add":
        if sentiment not in ("long", "short"):
            raise PayloadError("sentiment", "'add' needs bullish or bearish to know which side "
                                            "to add to")
        fields["side"] = OrderSide.BUY if sentiment == "long" else OrderSide.SELL
    else:
        side = OrderSide(action)
        fields["side"] = side
        # The sentiment is the position after the trade: selling into a long (or flat) position
        # closes it, buying into a short one covers it.
        closes = {OrderSide.SELL: ("long", "flat"), OrderSide.BUY: ("short", "flat")}[side]
        if sentiment in closes:
            fields["action"] = OrderAction.CLOSE
            if sentiment == "flat":
                fields.pop("quantity", None)
            elif "quantity" not in fields:
                raise PayloadError("quantity", f"{action} with sentiment {payload['sentiment']!r}"
                                               " reduces the position, so it needs a quantity")


def _read_order_type_and_prices(payload: dict[str, Any], fields: dict[str, Any]) -> None:
    limit, stop = _price(payload, "limitPrice"), _price(payload, "stopPrice")
    signal = _price(payload, "signalPrice") or _price(payload, "price")
    order_type = _choice(payload, "orderType", (*ORDER_TYPES, "trailing_stop"))
    if order_type == "trailing_stop":
        raise PayloadError("orderType", "trailing_stop orders (an entry or exit that itself "
                           "trails the price) are not supported; for a trailing stop loss on an "
                           "entry send stopLoss: {\"type\": \"trailing_stop\", \"trailAmount\": "
                           "...}")
    if order_type is None:
        order_type = {(True, True): "stop_limit", (True, False): "limit",
                      (False, True): "stop", (False, False): "market"}[(bool(limit), bool(stop))]
    if fields.get("action") is OrderAction.CANCEL:
        return
    fields["order_type"] = order_type
    if order_type in ("limit", "stop_limit") and limit is not None:
        fields["price"] = limit
    elif order_type == "market" and signal is not None:
        fields["price"] = signal
    if order_type in ("stop", "stop_limit") and stop is not None:
        fields["stop_price"] = stop
    tif = _choice(payload, "timeInForce", TIME_IN_FORCE)
    if tif is not None:
        fields["time_in_force"] = tif
    if _flag(payload, "extendedHours"):
        raise PayloadError("extendedHours", "extended-hours orders are not supported")


def _read_bracket(payload: dict[str, Any], fields: dict[str, Any]) -> RelativeBracket | None:
    """Absolute prices go into `fields`; distances are resolved now when there is an entry price,
    else returned to be measured from the plugin's price."""
    if fields.get("action", OrderAction.OPEN) is not OrderAction.OPEN:
        return None
    offsets: dict[str, PriceOffset] = {}
    for key, target in (("stopLoss", "stop_loss"), ("takeProfit", "take_profit")):
        table = payload.get(key)
        if table in (None, "", {}):
            continue
        if isinstance(table, list) and key == "takeProfit":
            raise PayloadError(key, "a list of take profits is not TradersPost's format (one "
                                    "takeProfit object per signal); a ladder is the native "
                                    "dialect's exits.take_profits")
        if not isinstance(table, dict):
            raise PayloadError(key, f"expected an object such as {{\"percent\": 5}}, got "
                                    f"{type(table).__name__}")
        absolute = "stopPrice" if key == "stopLoss" else "limitPrice"
        if key == "stopLoss":
            kind = _choice(table, "type", ("stop", "stop_limit", "trailing_stop"), key)
            if kind == "trailing_stop":
                fields["exits"] = {"trailing_stop": _trailing_stop(table)}
                continue
            if kind not in (None, "stop"):
                raise PayloadError(f"{key}.type", f"{kind} stop losses are not supported; use "
                                                  "type stop or trailing_stop")
        given = [name for name in (absolute, "percent", "amount") if table.get(name) not in
                 (None, "")]
        if len(given) != 1:
            raise PayloadError(key, f"give exactly one of {absolute}, percent or amount")
        name = given[0]
        value = to_number(f"{key}.{name}", table[name])
        if value <= 0:
            raise PayloadError(f"{key}.{name}", f"must be greater than 0, got {value:g}")
        if name == absolute:
            fields[target] = value
        else:
            offsets[target] = PriceOffset(field=f"{key}.{name}", **{name: value})
    if not offsets:
        return None
    bracket = RelativeBracket(**offsets)
    entry = fields.get("stop_price") if fields.get("order_type") == "stop" else fields.get("price")
    if entry is None or "side" not in fields:
        return bracket
    resolve_bracket(fields, bracket, entry, fields["side"])
    return None


def _trailing_stop(table: dict[str, Any]) -> dict[str, float]:
    """`stopLoss.trailAmount` (a price distance) or `stopLoss.trailPercent`, as the order's
    trailing stop by amount or percent."""
    given = [name for name in ("trailAmount", "trailPercent") if table.get(name) not in
             (None, "")]
    if not given:
        fixed = next((n for n in ("stopPrice", "amount", "percent") if table.get(n) not in
                      (None, "")), None)
        but = f" (stopLoss.{fixed} is for type stop)" if fixed else ""
        raise PayloadError("stopLoss.trailAmount", f"missing: a trailing_stop stop loss needs "
                           f"trailAmount (a price distance) or trailPercent{but}")
    if len(given) > 1:
        raise PayloadError("stopLoss", "give one of trailAmount or trailPercent, not both")
    name = given[0]
    value = to_number(f"stopLoss.{name}", table[name])
    if value <= 0:
        raise PayloadError(f"stopLoss.{name}", f"must be greater than 0, got {value:g}")
    return {"amount" if name == "trailAmount" else "percent": value}


def _choice(
    payload: dict[str, Any], key: str, allowed: tuple[str, ...], prefix: str | None = None
) -> str | None:
    value = payload.get(key)
    if value in (None, ""):
        return None
    name = f"{prefix}.{key}" if prefix else key
    word = to_text(name, value).lower()
    if word not in allowed:
        raise PayloadError(name, f"expected one of {', '.join(allowed)}, got {word[:40]!r}")
    return word


def _price(payload: dict[str, Any], key: str) -> float | None:
    value = payload.get(key)
    return None if value in (None, "") else to_number(key, value)


def _flag(payload: dict[str, Any], key: str) -> bool:
    value = payload.get(key)
    if value in (None, "", False, "false", "False", 0):
        return False
    if value in (True, "true", "True", 1):
        return True
    raise PayloadError(key, f"expected true or false, got {str(value)[:40]!r}")


def _text_or_none(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return None if value in (None, "") else to_text(key, value)
