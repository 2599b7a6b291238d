"""Finding the exchange market an alert means.

Alerts carry symbols as TradingView and people write them (`BINANCE:BTCUSDT`, `BTCUSDT`,
`BTCUSDT.P`, `BTC/USDT`, `BTC/USDT:USDT`); ccxt knows markets by unified symbol and by the
exchange's own id. Resolution, in order: the configured symbol map; a unified symbol with a settle
currency (`BTC/USDT:USDT`) taken as written; then every active market whose unified symbol, id or
base+quote matches, narrowed to the wanted market type (`.P` means a perpetual swap, else the
configured type), linear before inverse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Market = Mapping[str, Any]
"""One of ccxt's market structures, as `exchange.markets` holds them (`symbol`, `id`, `base`,
`quote`, `spot`, `contract`, `precision`, `limits`, ...)."""
_SEPARATORS = re.compile(r"[/\-_:. ]")


def _squash(text: str) -> str:
    return _SEPARATORS.sub("", text).upper()


def market_kind(market: Market) -> str | None:
    if market.get("spot"):
        return "spot"
    if market.get("swap"):
        return "swap"
    return None


def find_exact(target: str, markets: Mapping[str, Market]) -> Market | None:
    """A market named exactly by its unified symbol or its id (ids compared case-insensitively)."""
    if target in markets:
        return markets[target]
    upper = target.upper()
    for market in markets.values():
        if str(market.get("symbol", "")).upper() == upper:
            return market
    for market in markets.values():
        if str(market.get("id", "")).upper() == upper:
            return market
    return None


def strip_alert_decorations(symbol: str) -> tuple[str, bool]:
    """`BINANCE:BTCUSDT.P` -> (`BTCUSDT`, True): drop the exchange prefix and the perpetual mark."""
    text = symbol.strip()
    if ":" in text and "/" not in text:
        text = text.split(":", 1)[1]
    perpetual = text.upper().endswith(".P")
    if perpetual:
        text = text[:-2]
    return text, perpetual


def resolve_market(
    symbol: str,
    markets: Mapping[str, Market],
    market_type: str,
    symbol_map: Mapping[str, str] | None = None,
) -> Market | None:
    """The market an alert symbol means on this exchange, or None when there is none."""
    mapped = (symbol_map or {}).get(symbol.strip().upper())
    if mapped is not None:
        return find_exact(mapped, markets)
    if "/" in symbol and ":" in symbol:
        return find_exact(symbol.strip(), markets)
    text, perpetual = strip_alert_decorations(symbol)
    wanted = "swap" if perpetual else market_type
    squashed = _squash(text)
    candidates = [
        market
        for market in markets.values()
        if market.get("active") is not False
        and market_kind(market) == wanted
        and squashed
        in (
            _squash(str(market.get("id", ""))),
            _squash(f"{market.get('base', '')}{market.get('quote', '')}"),
        )
    ]
    if not candidates:
        return None

    def preference(market: Market) -> tuple[bool, bool]:
        exact = str(market.get("id", "")).upper() == text.upper()
        return (not market.get("linear", True), not exact)

    return sorted(candidates, key=preference)[0]
