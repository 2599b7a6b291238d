"""Alert dialects: turn a request body into an order.

`parse_alert` detects the dialect from the body (or takes the one a source fixes): a JSON
object with only `Order` fields is native, any other JSON object is TradingView placeholder
JSON, and text is a plain one-liner.
"""

from __future__ import annotations

import json
from typing import Any

from webhook.dialects.common import ParsedSignal
from webhook.dialects.native import looks_native, parse_native
from webhook.dialects.plain import parse_plain
from webhook.dialects.tradingview import parse_tradingview
from webhook.errors import PayloadError

__all__ = ["ParsedSignal", "parse_alert"]


def parse_alert(body: bytes, dialect: str = "auto") -> ParsedSignal:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError("body", f"not UTF-8 text (byte {exc.start})") from exc
    stripped = text.strip()
    if not stripped:
        raise PayloadError("body", "empty: expected an alert such as 'buy 0.1 BTC/USDT'")
    if dialect == "plain" or (dialect == "auto" and stripped[0] not in "{["):
        return parse_plain(stripped)
    payload = _json_object(stripped)
    if dialect == "native" or (dialect == "auto" and looks_native(payload)):
        return parse_native(payload)
    return parse_tradingview(payload)


def _json_object(text: str) -> dict[str, Any]:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            "body", f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise PayloadError("body", "JSON nested too deeply") from exc
    if not isinstance(payload, dict):
        raise PayloadError("body", f"expected a JSON object, got a JSON {type(payload).__name__}")
    return payload
