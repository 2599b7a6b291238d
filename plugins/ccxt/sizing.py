"""Amounts and prices at the market's precision, and the market's minimums checked before
anything is sent (ccxt rounds, but never checks the minimum order value itself)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt

from plugins.ccxt.symbols import Market
from plugins.errors import OrderRejected
from plugins.orders import number_text as fmt


def contract_factor(market: Market, quantity_unit: str) -> float:
    """Base currency per exchange amount unit: the contract size when quantities are given in
    base currency on a contract market, else 1."""
    if not market.get("contract") or quantity_unit == "contracts":
        return 1.0
    return float(market.get("contractSize") or 1.0)


def exchange_amount(market: Market, quantity_unit: str, quantity: float) -> float:
    """An order's quantity in the exchange's amount unit, divided in decimal: 0.58 BTC at
    0.01 BTC a contract is 58 contracts, not the 57.99999 that floats give (and truncate)."""
    if not market.get("contract") or quantity_unit == "contracts":
        return quantity
    size = Decimal(str(market.get("contractSize") or 1))
    return float(Decimal(str(quantity)) / size)


def unit_name(market: Market, quantity_unit: str) -> str:
    return "contracts" if market.get("contract") else str(market.get("base", ""))


def check_quantity_unit(market: Market, quantity_unit: str, what: str) -> None:
    if market.get("contract") and market.get("inverse") and quantity_unit == "base":
        raise OrderRejected(
            f"{what}: {market['symbol']} is an inverse contract sized in "
            f'{market.get("quote")}; set quantity_unit = "contracts" to trade it'
        )


def amount_at_precision(exchange: Any, market: Market, amount: float, what: str) -> str:
    try:
        return str(exchange.amount_to_precision(market["symbol"], amount))
    except ccxt.BaseError as exc:
        step = market.get("precision", {}).get("amount")
        raise OrderRejected(
            f"{what}: amount {fmt(amount)} is smaller than {market['symbol']}'s amount step {step}"
        ) from exc


def price_at_precision(exchange: Any, market: Market, price: float, what: str) -> str:
    try:
        return str(exchange.price_to_precision(market["symbol"], price))
    except ccxt.BaseError as exc:
        tick = market.get("precision", {}).get("price")
        raise OrderRejected(
            f"{what}: price {fmt(price)} is smaller than {market['symbol']}'s price tick {tick}"
        ) from exc


def needs_reference_price(market: Market) -> bool:
    """True when the market has a minimum order value, so a price is needed to check it."""
    return bool(_limit(market, "cost", "min")) and not market.get("inverse")


def check_minimums(
    market: Market, amount: str, reference_price: float | None, quantity_unit: str, what: str
) -> None:
    """Refuse an order below the market's minimum amount or minimum value, giving the numbers."""
    symbol, unit = market["symbol"], unit_name(market, quantity_unit)
    min_amount = _limit(market, "amount", "min")
    if min_amount and float(amount) < min_amount:
        raise OrderRejected(
            f"{what}: amount {amount} {unit} is below {symbol}'s minimum of {fmt(min_amount)}"
        )
    min_cost = _limit(market, "cost", "min")
    if not min_cost or reference_price is None or market.get("inverse"):
        return
    size = float(market.get("contractSize") or 1.0) if market.get("contract") else 1.0
    cost = float(amount) * size * reference_price
    if cost < min_cost:
        quote = market.get("quote", "")
        raise OrderRejected(
            f"{what}: order value {fmt(round(cost, 8))} {quote} ({amount} {unit} at "
            f"{fmt(reference_price)}) is below {symbol}'s minimum of {fmt(min_cost)} {quote}"
        )


def _limit(market: Market, kind: str, bound: str) -> float | None:
    value = (market.get("limits") or {}).get(kind, {}).get(bound)
    return float(value) if value else None
