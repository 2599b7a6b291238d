"""Plain-text one-liners for people and curl.

    buy 0.1 BTC/USDT
    sell 2 ES limit 5000 sl 5010 tp 4980 confidence 0.8
    buy 1 NQ stop 18000 limit 18010
    close EURUSD          close long EURUSD 0.5
    reverse sell 1 BTCUSDT
    cancel ES
    target 3 ES           target -2 BTCUSDT        target 0 EURUSD

Words after the symbol come in pairs, `word value` or `word=value`: limit, stop, sl, tp,
confidence, plugin, id, passphrase, unit (how the quantity is meant: units, quote,
percent_of_equity, ...), and `comment` which takes the rest of the line. `target N SYMBOL`
asks for the net position N (negative short, 0 flat): only the difference to the broker's
position is ordered.
"""

from __future__ import annotations

import re
from typing import Any

from webhook.decide.quantities import parse_quantity_unit
from webhook.dialects.signal import (
    ParsedSignal,
    build_order,
    check_placeholders,
    needs_default_quantity,
    to_number,
)
from webhook.errors import PayloadError

OPEN_WORDS = {"buy": "buy", "long": "buy", "sell": "sell", "short": "sell"}
ACTION_WORDS = {"close": "close", "exit": "close", "flat": "close", "cancel": "cancel",
                "reverse": "reverse"}
PRICE_WORDS = {"limit": "price", "price": "price", "stop": "stop_price", "sl": "stop_loss",
               "tp": "take_profit", "confidence": "confidence"}
TEXT_WORDS = frozenset({"plugin", "id", "passphrase", "unit"})
FIRST_WORDS = frozenset({*OPEN_WORDS, *ACTION_WORDS, "target"})
"""The words a plain alert can start with."""
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_plain(text: str, *, default_quantity: float | None = None) -> ParsedSignal:
    check_placeholders("body", text)
    words = _tokens(text)
    if not words:
        raise PayloadError("body", "empty alert: expected e.g. 'buy 0.1 BTC/USDT'")
    verb = words.pop(0).lower()
    fields: dict[str, Any] = {}
    if verb == "target":  # a word of its own: `target 3 ES`
        _read_target_and_symbol(words, fields)
    else:
        _read_verb(verb, words, fields)
        _read_quantity_and_symbol(words, fields)
    extras = _read_pairs(words, fields)
    # A target orders the difference to the broker's position: no unit applies to it.
    unit = None if "target_position" in fields else extras.get("unit")
    return ParsedSignal(
        order=build_order(fields, default_quantity=default_quantity),
        dialect="plain",
        plugin=extras.get("plugin"),
        idempotency_key=extras.get("id"),
        passphrase=extras.get("passphrase"),
        quantity_unit=None if unit is None else parse_quantity_unit("unit", unit),
        default_quantity=default_quantity is not None and needs_default_quantity(fields),
    )


def _read_verb(verb: str, words: list[str], fields: dict[str, Any]) -> None:
    """The action and side: `buy`, `close long`, `reverse sell`, ..."""
    if verb in ACTION_WORDS:
        fields["action"] = ACTION_WORDS[verb]
        if verb == "reverse" or (words and words[0].lower() in ("long", "short")):
            verb = words.pop(0).lower() if words else ""
            if verb not in OPEN_WORDS:
                raise PayloadError("side", f"expected buy or sell after {fields['action']!r}")
            fields["side"] = _side_for(fields["action"], OPEN_WORDS[verb])
    elif verb in OPEN_WORDS:
        fields["side"] = OPEN_WORDS[verb]
    else:
        raise PayloadError(
            "body", f"expected buy, sell, close, reverse, cancel or target first, got "
            f"{verb[:20]!r}"
        )


def _read_target_and_symbol(words: list[str], fields: dict[str, Any]) -> None:
    """`target 3 ES` or `target ES -2`: the net position wanted and the symbol."""
    fields["action"] = "target"
    _read_quantity_and_symbol(words, fields)
    if "quantity" not in fields:
        raise PayloadError("target_position", "missing: expected e.g. 'target 3 ES' (the net "
                           "position wanted: negative short, 0 flat)")
    fields["target_position"] = fields.pop("quantity")


def _side_for(action: str, side: str) -> str:
    """`close long` sells, `close short` buys; `reverse buy` ends long."""
    if action == "close":
        return "sell" if side == "buy" else "buy"
    return side


def _tokens(text: str) -> list[str]:
    words: list[str] = []
    for word in text.strip().split():
        key, sep, value = word.partition("=")
        words.extend([key, value] if sep and value else [word])
    return words


def _read_quantity_and_symbol(words: list[str], fields: dict[str, Any]) -> None:
    """`QTY SYMBOL` or `SYMBOL QTY`; the quantity is optional for close, cancel and reverse."""
    if words and _NUMBER.match(words[0]):
        fields["quantity"] = to_number("quantity", words.pop(0))
    if not words or _is_keyword_with_value(words):
        raise PayloadError("symbol", "missing: expected e.g. 'buy 0.1 BTC/USDT'")
    fields["symbol"] = words.pop(0)
    if "quantity" not in fields and words and _NUMBER.match(words[0]):
        fields["quantity"] = to_number("quantity", words.pop(0))


def _is_keyword_with_value(words: list[str]) -> bool:
    """Whether the word where the symbol goes is a keyword followed by its value (`buy 1 limit
    5`: the symbol is missing) rather than a symbol that happens to be spelled like one (`buy 1
    ID`, `buy 1 STOP limit 5`): a price word takes a number, a text word any word but another
    keyword."""
    word, following = words[0].lower(), words[1] if len(words) > 1 else None
    if following is None:
        return False
    if word in PRICE_WORDS:
        return _NUMBER.match(following) is not None
    if word in TEXT_WORDS:
        return following.lower() not in PRICE_WORDS and following.lower() not in TEXT_WORDS
    return False


def _read_pairs(words: list[str], fields: dict[str, Any]) -> dict[str, str]:
    extras: dict[str, str] = {}
    is_limit = False
    while words:
        word = words.pop(0).lower()
        if word == "market":
            continue
        if word == "comment":
            fields["comment"] = " ".join(words)[:256]
            break
        if not words:
            raise PayloadError(_field(word), f"'{word}' needs a value after it")
        value = words.pop(0)
        if word in PRICE_WORDS:
            fields[PRICE_WORDS[word]] = to_number(_field(word), value)
            is_limit = is_limit or word == "limit"
        elif word in TEXT_WORDS:
            extras[word] = value
        else:
            raise PayloadError("body", f"unknown word {word[:20]!r}; expected one of: "
                               "limit, stop, sl, tp, confidence, plugin, id, unit, comment")
    if "stop_price" in fields:
        fields["order_type"] = "stop_limit" if is_limit else "stop"
    elif is_limit:
        fields["order_type"] = "limit"
    return extras


def _field(word: str) -> str:
    return PRICE_WORDS.get(word, word)
