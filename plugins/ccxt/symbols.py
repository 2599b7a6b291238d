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

from plugins.errors import NotSupported
from plugins.orders import SymbolSpecs, decimals_of, pip_size

TICK_SIZE = 4
DECIMAL_PLACES = 2
"""ccxt's `precisionMode` values (`ccxt.TICK_SIZE`, `ccxt.DECIMAL_PLACES`): whether a market's
`precision.price` is the tick itself (0.01) or a count of decimals (2). Copied here so that
the plugins' core need not import ccxt for two integers."""

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


def market_specs(symbol: str, market: Market, precision_mode: int) -> SymbolSpecs:
    """A market's price precision as symbol specs: under `TICK_SIZE` (ccxt's mode for Binance
    and OKX, "Precision And Limits" in the ccxt manual) `precision.price` is the tick, and the
    digits are its decimals; under `DECIMAL_PLACES` it is the digits. `contractSize` is the
    contract's size in base currency (derivatives only)."""
    given = (market.get("precision") or {}).get("price")
    if not isinstance(given, int | float) or isinstance(given, bool) or given <= 0:
        raise NotSupported(f"market {market.get('symbol')} has no price precision")
    if precision_mode == TICK_SIZE:
        tick = float(given)
        digits = decimals_of(tick)
    elif precision_mode == DECIMAL_PLACES:
        digits = int(given)
        tick = float(f"{10.0 ** -digits:.12g}")
    else:
        raise NotSupported(f"market {market.get('symbol')}: ccxt's precision mode "
                           f"{precision_mode} gives no price step")
    point = float(f"{10.0 ** -digits:.12g}")
    contract = market.get("contractSize") if market.get("contract") else None
    return SymbolSpecs(
        symbol=symbol, digits=digits, point=point, pip=pip_size(point, digits),
        tick_size=tick if abs(tick - point) > point * 1e-9 else None,
        contract_size=float(contract) if isinstance(contract, int | float) and contract else None,
    )


def in_order_units(specs: SymbolSpecs, market: Market, quantity_unit: str) -> SymbolSpecs:
    """`specs` for orders given in `quantity_unit`: where that is contracts, a tick's value per
    contract is the tick times the contract size on a linear market, and unknown on an inverse
    one (its profit is in the base currency)."""
    if not market.get("contract") or quantity_unit != "contracts":
        return specs
    tick, size = specs.tick_size or specs.point, specs.contract_size
    value = float(f"{tick * size:.12g}") if market.get("linear") and size else None
    return specs.model_copy(update={"quantity_in_base": False, "tick_value": value})
