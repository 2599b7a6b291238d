"""Alert dialects: turn a request body into a `ParsedSignal` (in `signal`), one module each.
Pure parsing: it imports no journal, no HTTP room and no plugin back end.

`parse_alert` detects the dialect from the body (or takes the one a source fixes). JSON: an
object with only `Order` fields is native; one with a `ticker` and a TradersPost-only field
(`sentiment`, `orderType`, `limitPrice`, `stopLoss`, ...) or a TradersPost action (exit, add,
cancel, breakeven) is TradersPost; one with a ticker or symbol is TradingView placeholder JSON.
Text: `LicenseID,command,symbol,...` is PineConnector, anything else a plain one-liner.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from webhook.dialects.native import looks_native, parse_native
from webhook.dialects.pineconnector import looks_like_pineconnector, parse_pineconnector
from webhook.dialects.pineconnector_targets import PineConnectorSettings
from webhook.dialects.plain import FIRST_WORDS, parse_plain
from webhook.dialects.signal import ParsedSignal, check_placeholders
from webhook.dialects.traderspost import looks_like_traderspost, parse_traderspost
from webhook.dialects.tradingview import looks_like_tradingview, parse_tradingview
from webhook.errors import PayloadError

__all__ = ["DIALECTS", "ParsedSignal", "parse_alert"]

DIALECTS = ("native", "tradingview", "traderspost", "pineconnector", "plain")
_TRIED_JSON = (
    "tried native (needs 'symbol' and only Order fields), traderspost (needs 'ticker' and "
    "'action'), tradingview (needs 'ticker' or 'symbol')"
)


def parse_alert(
    body: bytes,
    dialect: str = "auto",
    *,
    default_quantity: float | None = None,
    pineconnector: PineConnectorSettings | None = None,
) -> ParsedSignal:
    """The order in `body`, read in `dialect` ("auto" detects it). `default_quantity` sizes
    opening alerts that carry no quantity; `pineconnector` says how PineConnector alerts read
    their stops. Raises `PayloadError` naming the field."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError("body", f"not UTF-8 text (byte {exc.start})") from exc
    stripped = text.strip()
    if not stripped:
        raise PayloadError("body", "empty: expected an alert such as 'buy 0.1 BTC/USDT'")
    defaults = {"default_quantity": default_quantity}
    if dialect == "pineconnector" or (dialect == "auto" and looks_like_pineconnector(stripped)):
        return parse_pineconnector(stripped, **defaults, settings=pineconnector)
    if dialect == "plain":
        return parse_plain(stripped, **defaults)
    if dialect == "auto" and stripped[0] not in "{[":
        return _parse_text(stripped, default_quantity)
    if stripped.startswith("{{"):
        check_placeholders("body", stripped)  # a text alert that starts with a placeholder
    payload = _json_object(stripped)
    if dialect == "native" or (dialect == "auto" and looks_native(payload)):
        return parse_native(payload, **defaults)
    if dialect == "traderspost" or (dialect == "auto" and looks_like_traderspost(payload)):
        return parse_traderspost(payload, **defaults)
    if dialect == "auto" and not looks_like_tradingview(payload):
        keys = ", ".join(sorted(payload)[:10]) or "none"
        raise PayloadError("body", f"not an alert tradehook knows: {_TRIED_JSON}; the keys "
                                   f"were: {keys}")
    return parse_tradingview(payload, **defaults)


def _parse_text(text: str, default_quantity: float | None) -> ParsedSignal:
    check_placeholders("body", text)
    first = text.split(maxsplit=1)[0].lower()
    if first not in FIRST_WORDS:
        raise PayloadError(
            "body", f"not an alert tradehook knows: tried pineconnector (needs "
            f"LicenseID,command,symbol) and plain text (needs buy, sell, close, reverse, "
            f"cancel or target first, e.g. 'buy 0.1 BTC/USDT'); the text starts with "
            f"{first[:20]!r}"
        )
    return parse_plain(text, default_quantity=default_quantity)


def _json_object(text: str) -> dict[str, Any]:
    """The JSON object in `text`. orjson reads what it accepts in a fifth of `json`'s time;
    what it refuses (malformed JSON, but also NaN, integers over 64 bits, lone surrogates and
    deep nesting, which `json` takes or words differently) is read again by `json`, so that
    what is accepted and every error message stay `json`'s."""
    try:
        payload = orjson.loads(text)
    except orjson.JSONDecodeError:
        payload = _json_loads(text)
    if not isinstance(payload, dict):
        raise PayloadError("body", f"expected a JSON object, got a JSON {type(payload).__name__}")
    return payload


def _json_loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            "body", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise PayloadError("body", "JSON nested too deeply") from exc
