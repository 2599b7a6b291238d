"""Alert symbols resolved against an exchange's markets, as ccxt describes them."""

from __future__ import annotations

from typing import Any

import pytest

from plugins.ccxt.symbols import resolve_market


def market(symbol: str, market_id: str, kind: str = "spot", **extra: Any) -> dict[str, Any]:
    base, rest = symbol.split("/")
    quote, _, settle = rest.partition(":")
    return {
        "symbol": symbol,
        "id": market_id,
        "base": base,
        "quote": quote,
        "settle": settle or None,
        "spot": kind == "spot",
        "swap": kind == "swap",
        "future": kind == "future",
        "linear": (settle == quote) if settle else None,
        "active": True,
        **extra,
    }


MARKETS = {
    m["symbol"]: m
    for m in (
        market("BTC/USDT", "BTCUSDT"),
        market("BTC/USDT:USDT", "BTCUSDT", "swap"),
        market("BTC/USD:BTC", "BTCUSD", "swap"),
        market("ETH/USDT", "ETH-USDT"),
        market("ETH/USDT:USDT", "ETH-USDT-SWAP", "swap"),
        market("ETH/USDT:USDT-251226", "ETH-USDT-251226", "future"),
        market("LUNA/USDT", "LUNAUSDT", active=False),
    )
}


def resolved(symbol: str, market_type: str = "spot", **symbol_map: str) -> str | None:
    found = resolve_market(symbol, MARKETS, market_type, symbol_map)
    return None if found is None else str(found["symbol"])


@pytest.mark.parametrize(
    ("alert", "spot", "swap"),
    [
        ("BTCUSDT", "BTC/USDT", "BTC/USDT:USDT"),
        ("BINANCE:BTCUSDT", "BTC/USDT", "BTC/USDT:USDT"),
        ("BTC/USDT", "BTC/USDT", "BTC/USDT:USDT"),
        ("btc-usdt", "BTC/USDT", "BTC/USDT:USDT"),
        ("ETHUSDT", "ETH/USDT", "ETH/USDT:USDT"),
        ("ETH-USDT-SWAP", None, "ETH/USDT:USDT"),
    ],
)
def test_plain_symbols_follow_the_configured_market_type(
    alert: str, spot: str | None, swap: str | None
) -> None:
    assert resolved(alert, "spot") == spot
    assert resolved(alert, "swap") == swap


@pytest.mark.parametrize("alert", ["BTCUSDT.P", "BYBIT:BTCUSDT.P", "btcusdt.p"])
def test_the_perpetual_mark_means_the_swap_whatever_the_market_type(alert: str) -> None:
    assert resolved(alert, "spot") == "BTC/USDT:USDT"


def test_inverse_perpetuals_resolve_by_their_own_quote() -> None:
    assert resolved("BTCUSD.P") == "BTC/USD:BTC"


def test_a_unified_symbol_with_settle_is_taken_as_written() -> None:
    assert resolved("BTC/USDT:USDT", "spot") == "BTC/USDT:USDT"
    assert resolved("ETH/USDT:USDT-251226", "swap") == "ETH/USDT:USDT-251226"


def test_the_symbol_map_comes_first() -> None:
    assert resolved("XBTUSD", "spot", XBTUSD="BTC/USDT:USDT") == "BTC/USDT:USDT"
    assert resolved("BTCUSDT", "spot", BTCUSDT="ETHUSDT") is None


def test_inactive_and_unknown_markets_resolve_to_nothing() -> None:
    assert resolved("LUNAUSDT") is None
    assert resolved("DOGEUSDT") is None
    assert resolved("DOGEUSDT.P") is None
