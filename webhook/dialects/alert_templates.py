"""Alert templates for the alert builder: for a dialect and an action, the message to paste
into a TradingView alert (with TradingView's placeholders) and the order it stands for.

`alert_template` writes each message next to the order it means, without asking the parsers;
`AlertTemplate.order_for(samples)` is that order once TradingView has filled the placeholders
with `samples`. tests/webhook/dialects/test_alert_templates.py runs every pair through
`parse_alert` and compares, so the builder never hands out a message tradehook reads otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plugins.orders import Order, OrderAction, OrderSide, OrderType, number_text

PASSPHRASE_STAND_IN = "YOUR_PASSPHRASE"  # noqa: S105 - a stand-in, not a secret
"""Written where the source's passphrase goes: the builder never shows the passphrase itself."""
PINECONNECTOR_LICENSE = "tradehook"
"""PineConnector's LicenseID field; tradehook does not check it."""
_PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")


class BuilderAction(StrEnum):
    STRATEGY = "strategy"
    BUY = "buy"
    SELL = "sell"
    BUY_LIMIT = "buy_limit"
    SELL_LIMIT = "sell_limit"
    BUY_STOP = "buy_stop"
    SELL_STOP = "sell_stop"
    ADD_LONG = "add_long"
    ADD_SHORT = "add_short"
    CLOSE = "close"
    CLOSE_LONG = "close_long"
    CLOSE_SHORT = "close_short"
    REVERSE_LONG = "reverse_long"
    REVERSE_SHORT = "reverse_short"
    CANCEL = "cancel"
    CANCEL_LONG = "cancel_long"
    CANCEL_SHORT = "cancel_short"


LABELS: dict[BuilderAction, str] = {
    BuilderAction.STRATEGY: "whatever the strategy does (strategy alerts)",
    BuilderAction.BUY: "buy at market",
    BuilderAction.SELL: "sell at market",
    BuilderAction.BUY_LIMIT: "buy limit at the bar's close",
    BuilderAction.SELL_LIMIT: "sell limit at the bar's close",
    BuilderAction.BUY_STOP: "buy stop at the bar's close",
    BuilderAction.SELL_STOP: "sell stop at the bar's close",
    BuilderAction.ADD_LONG: "add to the long position",
    BuilderAction.ADD_SHORT: "add to the short position",
    BuilderAction.CLOSE: "close the whole position",
    BuilderAction.CLOSE_LONG: "close the long position",
    BuilderAction.CLOSE_SHORT: "close the short position",
    BuilderAction.REVERSE_LONG: "reverse a short into a long",
    BuilderAction.REVERSE_SHORT: "reverse a long into a short",
    BuilderAction.CANCEL: "cancel the symbol's open orders",
    BuilderAction.CANCEL_LONG: "cancel the open buy orders",
    BuilderAction.CANCEL_SHORT: "cancel the open sell orders",
}


@dataclass(frozen=True)
class _Intent:
    """What an action asks of the broker, whatever the dialect that says it."""

    action: OrderAction
    side: OrderSide | None = None
    order_type: OrderType = OrderType.MARKET
    sized: bool = False


_BUY, _SELL, _OPEN = OrderSide.BUY, OrderSide.SELL, OrderAction.OPEN
INTENTS: dict[BuilderAction, _Intent] = {
    BuilderAction.BUY: _Intent(_OPEN, _BUY, sized=True),
    BuilderAction.SELL: _Intent(_OPEN, _SELL, sized=True),
    BuilderAction.BUY_LIMIT: _Intent(_OPEN, _BUY, OrderType.LIMIT, sized=True),
    BuilderAction.SELL_LIMIT: _Intent(_OPEN, _SELL, OrderType.LIMIT, sized=True),
    BuilderAction.BUY_STOP: _Intent(_OPEN, _BUY, OrderType.STOP, sized=True),
    BuilderAction.SELL_STOP: _Intent(_OPEN, _SELL, OrderType.STOP, sized=True),
    BuilderAction.ADD_LONG: _Intent(_OPEN, _BUY, sized=True),
    BuilderAction.ADD_SHORT: _Intent(_OPEN, _SELL, sized=True),
    BuilderAction.CLOSE: _Intent(OrderAction.CLOSE),
    BuilderAction.CLOSE_LONG: _Intent(OrderAction.CLOSE, _SELL),
    BuilderAction.CLOSE_SHORT: _Intent(OrderAction.CLOSE, _BUY),
    BuilderAction.REVERSE_LONG: _Intent(OrderAction.REVERSE, _BUY, sized=True),
    BuilderAction.REVERSE_SHORT: _Intent(OrderAction.REVERSE, _SELL, sized=True),
    BuilderAction.CANCEL: _Intent(OrderAction.CANCEL),
    BuilderAction.CANCEL_LONG: _Intent(OrderAction.CANCEL, _BUY),
    BuilderAction.CANCEL_SHORT: _Intent(OrderAction.CANCEL, _SELL),
}
_OPENING = ("buy", "sell", "buy_limit", "sell_limit", "buy_stop", "sell_stop")
_CLOSING = ("close", "close_long", "close_short")
ACTIONS: dict[str, tuple[BuilderAction, ...]] = {
    name: tuple(BuilderAction(a) for a in actions) for name, actions in {
        "tradingview": ("strategy", *_OPENING, *_CLOSING, "reverse_long", "reverse_short"),
        "traderspost": (*_OPENING, "add_long", "add_short", *_CLOSING, "cancel"),
        "pineconnector": (*_OPENING, *_CLOSING, "cancel_long", "cancel_short"),
        "plain": (*_OPENING, *_CLOSING, "reverse_long", "reverse_short", "cancel"),
        "native": (*_OPENING, *_CLOSING, "reverse_long", "reverse_short", "cancel"),
    }.items()
}
"""Every action each dialect can say, in the order the builder offers them."""


class AlertSamples(BaseModel):
    """What TradingView puts in for the placeholders when an alert fires: the order a template
    shows is the one these values make, and a test send fills the template with them."""

    model_config = ConfigDict(frozen=True)

    ticker: str = Field("BTCUSDT", min_length=1, max_length=64, pattern=r"^[^\s\"\\,=]+$")
    close: float = Field(67250.5, gt=0, allow_inf_nan=False)
    timenow: datetime = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    order_action: Literal["buy", "sell"] = "buy"
    order_contracts: float = Field(0.25, gt=0, allow_inf_nan=False)
    order_price: float = Field(67248.0, gt=0, allow_inf_nan=False)
    order_id: str = Field("Long", pattern=r"^[^\"\\]{1,64}$")
    market_position: Literal["long", "short", "flat"] = "long"
    prev_market_position: Literal["long", "short", "flat"] = "flat"
    market_position_size: float = Field(0.25, ge=0, allow_inf_nan=False)

    def placeholder_values(self) -> dict[str, str]:
        """Each placeholder and its text, as TradingView writes it (times in ISO 8601, UTC)."""
        return {
            "ticker": self.ticker,
            "close": number_text(self.close),
            "timenow": self.timenow.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "strategy.order.action": self.order_action,
            "strategy.order.contracts": number_text(self.order_contracts),
            "strategy.order.price": number_text(self.order_price),
            "strategy.order.id": self.order_id,
            "strategy.market_position": self.market_position,
            "strategy.prev_market_position": self.prev_market_position,
            "strategy.market_position_size": number_text(self.market_position_size),
        }


def fill_placeholders(message: str, samples: AlertSamples) -> str:
    """`message` as TradingView sends it once it has put in the values of its placeholders."""
    values = samples.placeholder_values()
    return _PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group(0)), message)


def filled_message(
    template: AlertTemplate, samples: AlertSamples, passphrase: str | None = None
) -> str:
    """The template as TradingView posts it, with `passphrase` (the source's) written where the
    stand-in is."""
    text = fill_placeholders(template.message, samples)
    if passphrase is not None and template.passphrase:
        as_json = template.content_type == _JSON
        text = text.replace(PASSPHRASE_STAND_IN,
                            json.dumps(passphrase)[1:-1] if as_json else passphrase)
    return text


class AlertTemplate(BaseModel):
    """A message for one dialect and action, and the order it stands for."""

    dialect: str
    action: BuilderAction
    label: str
    content_type: str
    """What TradingView posts it as: `application/json` when the filled message is JSON."""
    message: str
    """The alert message, with TradingView's placeholders."""
    placeholders: list[str]
    quantity: float | None
    """The quantity written into the message (None: the action needs none, or the strategy
    says it)."""
    passphrase: bool
    """The message carries `PASSPHRASE_STAND_IN` where the source's passphrase goes."""

    def order_for(self, samples: AlertSamples) -> Order:
        """The order this message becomes once TradingView filled it with `samples`."""
        return _intended_order(self.dialect, self.action, self.quantity, samples)


class UnknownChoice(ValueError):
    """A dialect or an action the builder has no template for; the message says what exists."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def alert_template(
    dialect: str, action: str, *, quantity: float = 1.0, passphrase: bool = False
) -> AlertTemplate:
    """The message for `dialect` and `action`, sized `quantity` where the action takes one;
    raises `UnknownChoice` for a dialect or action it cannot write."""
    if dialect not in ACTIONS:
        raise UnknownChoice("dialect", f"expected one of {', '.join(ACTIONS)}")
    if action not in ACTIONS[dialect]:
        offered = ", ".join(ACTIONS[dialect])
        raise UnknownChoice("action", f"{dialect} alerts can say: {offered}")
    chosen = BuilderAction(action)
    secret = PASSPHRASE_STAND_IN if passphrase else None
    sized = chosen is not BuilderAction.STRATEGY and INTENTS[chosen].sized
    message, content_type = _WRITERS[dialect](chosen, quantity, secret)
    return AlertTemplate(
        dialect=dialect, action=chosen, label=LABELS[chosen], content_type=content_type,
        message=message, placeholders=sorted(set(_PLACEHOLDER.findall(message))),
        quantity=quantity if sized else None, passphrase=passphrase,
    )


def _intended_order(
    dialect: str, action: BuilderAction, quantity: float | None, samples: AlertSamples
) -> Order:
    timed = dialect in ("tradingview", "traderspost")  # they carry {{timenow}}
    fields: dict[str, Any] = {"symbol": samples.ticker}
    if timed:
        fields["alert_time"] = samples.timenow.timestamp()
    if action is BuilderAction.STRATEGY:
        return Order.model_validate(fields | _strategy_order(samples))
    intent = INTENTS[action]
    fields.update(action=intent.action, order_type=intent.order_type)
    if intent.side is not None:
        fields["side"] = intent.side
    if intent.sized:
        fields["quantity"] = quantity
    if intent.order_type is OrderType.LIMIT:
        fields["price"] = samples.close
    elif intent.order_type is OrderType.STOP:
        fields["stop_price"] = samples.close
    elif intent.sized and dialect in _SENDS_SIGNAL_PRICE:
        fields["price"] = samples.close
    return Order.model_validate(fields)


def _strategy_order(samples: AlertSamples) -> dict[str, Any]:
    """What a strategy's order means, told by the position it leaves: flat closes the position;
    a position on the other side than the order reduces it by the contracts; a position
    opposite to the one before reverses it, to the new position's size; else it opens."""
    side = OrderSide(samples.order_action)
    fields: dict[str, Any] = {"side": side, "price": samples.order_price,
                              "quantity": samples.order_contracts}
    after = samples.market_position
    if after == "flat":
        return fields | {"action": OrderAction.CLOSE, "quantity": None}
    if after != ("long" if side is OrderSide.BUY else "short"):
        return fields | {"action": OrderAction.CLOSE}
    if samples.prev_market_position not in ("flat", after):
        return fields | {"action": OrderAction.REVERSE, "quantity": samples.market_position_size}
    return fields


_SENDS_SIGNAL_PRICE = ("native", "tradingview", "traderspost")
"""JSON dialects send the bar's close as the alert's price (for slippage); text ones do not."""
_JSON, _TEXT = "application/json", "text/plain"


def _json(body: dict[str, Any]) -> tuple[str, str]:
    return json.dumps(body), _JSON


def _prices(intent: _Intent, limit: str, stop: str, signal: str) -> dict[str, Any]:
    """The price fields of an order, under the dialect's names, all `{{close}}`."""
    if intent.order_type is OrderType.LIMIT:
        return {limit: "{{close}}"}
    if intent.order_type is OrderType.STOP:
        return {stop: "{{close}}"}
    return {signal: "{{close}}"} if intent.sized else {}


def _native(action: BuilderAction, quantity: float, secret: str | None) -> tuple[str, str]:
    intent = INTENTS[action]
    body: dict[str, Any] = {"symbol": "{{ticker}}"}
    if intent.action is not OrderAction.OPEN:
        body["action"] = intent.action.value
    if intent.side is not None:
        body["side"] = intent.side.value
    if intent.order_type is not OrderType.MARKET:
        body["order_type"] = intent.order_type.value
    if intent.sized:
        body["quantity"] = quantity
    body.update(_prices(intent, "price", "stop_price", "price"))
    return _json(body | ({"passphrase": secret} if secret else {}))


def _tradingview(action: BuilderAction, quantity: float, secret: str | None) -> tuple[str, str]:
    body: dict[str, Any] = {"ticker": "{{ticker}}"}
    if action is BuilderAction.STRATEGY:
        body.update({
            "action": "{{strategy.order.action}}", "contracts": "{{strategy.order.contracts}}",
            "price": "{{strategy.order.price}}", "position": "{{strategy.market_position}}",
            "prev_position": "{{strategy.prev_market_position}}",
            "position_size": "{{strategy.market_position_size}}",
            "order_id": "{{strategy.order.id}}",
        })
    else:
        intent = INTENTS[action]
        side = intent.side.value if intent.side else None
        if intent.action is OrderAction.CLOSE:
            # A sell after which the strategy is flat closes the long, whatever its size.
            body.update({"action": side, "position": "flat"} if side else {"action": "close"})
        elif intent.action is OrderAction.REVERSE:
            after, before = ("long", "short") if side == "buy" else ("short", "long")
            body.update({"action": side, "position": after, "prev_position": before,
                         "position_size": number_text(quantity)})
        else:
            body.update({"action": side, "contracts": number_text(quantity)})
            if intent.order_type is not OrderType.MARKET:
                body["order_type"] = intent.order_type.value
        body.update(_prices(intent, "price", "stop_price", "price"))
    body["timenow"] = "{{timenow}}"
    return _json(body | ({"passphrase": secret} if secret else {}))


def _traderspost(action: BuilderAction, quantity: float, secret: str | None) -> tuple[str, str]:
    intent = INTENTS[action]
    side = intent.side.value if intent.side else None
    sentiment = {"buy": "bullish", "sell": "bearish", None: None}[side]
    body: dict[str, Any] = {"ticker": "{{ticker}}"}
    if intent.action is OrderAction.CANCEL:
        body["action"] = "cancel"
    elif intent.action is OrderAction.CLOSE:
        # The sentiment is the position after the trade: flat closes it.
        body.update({"action": side or "exit", "sentiment": "flat"})
    else:
        word = "add" if action in (BuilderAction.ADD_LONG, BuilderAction.ADD_SHORT) else side
        body.update({"action": word, "sentiment": sentiment, "quantity": quantity,
                     "orderType": intent.order_type.value})
        body.update(_prices(intent, "limitPrice", "stopPrice", "signalPrice"))
    body["time"] = "{{timenow}}"
    return _json(body | ({"passphrase": secret} if secret else {}))


_PINECONNECTOR_COMMANDS = {
    BuilderAction.BUY: "buy", BuilderAction.SELL: "sell", BuilderAction.BUY_LIMIT: "buylimit",
    BuilderAction.SELL_LIMIT: "selllimit", BuilderAction.BUY_STOP: "buystop",
    BuilderAction.SELL_STOP: "sellstop", BuilderAction.CLOSE: "closeall",
    BuilderAction.CLOSE_LONG: "closelong", BuilderAction.CLOSE_SHORT: "closeshort",
    BuilderAction.CANCEL_LONG: "cancellong", BuilderAction.CANCEL_SHORT: "cancelshort",
}


def _pineconnector(action: BuilderAction, quantity: float, secret: str | None
                   ) -> tuple[str, str]:
    intent = INTENTS[action]
    parts = [PINECONNECTOR_LICENSE, _PINECONNECTOR_COMMANDS[action], "{{ticker}}"]
    if intent.sized:
        parts.append(f"risk={number_text(quantity)}")
    if intent.order_type is not OrderType.MARKET:
        parts.append("price={{close}}")
    if secret:
        parts.append(f"secret={secret}")
    return ",".join(parts), _TEXT


def _plain(action: BuilderAction, quantity: float, secret: str | None) -> tuple[str, str]:
    intent = INTENTS[action]
    side = intent.side.value if intent.side else None
    if intent.action is OrderAction.OPEN:
        words = [side or "", number_text(quantity), "{{ticker}}"]
    elif intent.action is OrderAction.REVERSE:
        words = ["reverse", side or "", number_text(quantity), "{{ticker}}"]
    elif intent.action is OrderAction.CLOSE and side is not None:
        words = ["close", "long" if side == "sell" else "short", "{{ticker}}"]
    else:
        words = [intent.action.value, "{{ticker}}"]
    if intent.order_type is not OrderType.MARKET:
        words += [intent.order_type.value, "{{close}}"]
    if secret:
        words += ["passphrase", secret]
    return " ".join(words), _TEXT


_WRITERS: dict[str, Callable[[BuilderAction, float, str | None], tuple[str, str]]] = {
    "native": _native, "tradingview": _tradingview, "traderspost": _traderspost,
    "pineconnector": _pineconnector, "plain": _plain,
}
