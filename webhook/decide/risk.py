"""The risk rules: each check returns None, or a `Rejection` naming the rule and the numbers.

A rule sits at its limit and passes there: `max_quantity = 1` lets 1 through and refuses 1.0001.
Quantity, notional and position limits apply to orders that open or reverse; closing and
cancelling only ever reduce risk. The symbol, hours and rate rules apply to every order.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugins.orders import Order, OrderAction
from webhook.decide.broker_lookup import BrokerLookup, position_after
from webhook.decide.rate_window import RateWindows
from webhook.decide.risk_limits import RiskLimits
from webhook.decide.sizing import reference_price
from webhook.decide.symbols import matches
from webhook.errors import FactUnavailable

TOLERANCE = 1e-9
"""Relative slack, so that a value equal to its limit is not refused for float noise."""


@dataclass(frozen=True)
class Rejection:
    rule: str
    """The setting that refused the signal, e.g. `sources.tv.risk.max_quantity`."""
    reason: str

    def text(self) -> str:
        return f"{self.rule}: {self.reason}"


@dataclass(frozen=True)
class RiskScope:
    """One table of limits and the symbol as that table sees it."""

    key: str
    """`sources.NAME.risk` (alert symbols) or `plugins.NAME.risk` (broker symbols)."""
    limits: RiskLimits
    symbol: str
    rate_key: str
    who: str
    """`source 'tv'` or `plugin 'binance'`, for messages."""


def check_hours_and_symbols(scope: RiskScope, now: float) -> Rejection | None:
    limits = scope.limits
    hours = limits.trading_hours
    if hours is not None and not hours.is_open(now):
        return Rejection(f"{scope.key}.trading_hours", f"{hours.describe_now(now)} is outside "
                         f"the trading hours {hours.describe()}")
    allowed = limits.allowed_symbols
    if allowed is not None and not any(matches(p, scope.symbol) for p in allowed):
        return Rejection(f"{scope.key}.allowed_symbols", f"{scope.symbol} is not among the "
                         f"allowed symbols ({', '.join(allowed) or 'none'})")
    return None


def check_rate(scope: RiskScope, windows: RateWindows, now: float) -> Rejection | None:
    limit = scope.limits.max_signals_per_minute
    if limit is None:
        return None
    count = windows.count(scope.rate_key, now)
    if count < limit:
        return None
    return Rejection(f"{scope.key}.max_signals_per_minute", f"{count} signals for "
                     f"{scope.who} were accepted in the last 60 s; the limit is {limit}")


async def check_size(scope: RiskScope, order: Order, facts: BrokerLookup) -> Rejection | None:
    """max_quantity, max_notional and max_position, for orders that open or reverse."""
    if order.action not in (OrderAction.OPEN, OrderAction.REVERSE):
        return None
    limits, symbol = scope.limits, scope.symbol
    (max_quantity, q_key), (max_notional, n_key), (max_position, p_key) = (
        limits.limit(name, symbol) for name in ("max_quantity", "max_notional", "max_position")
    )
    rule = q_key
    try:
        quantity = order.quantity
        if quantity is None and (max_quantity, max_notional) != (None, None):
            quantity = abs(await facts.position())  # a reverse to the size of the position
        if max_quantity is not None and quantity is not None and _over(quantity, max_quantity):
            return Rejection(f"{scope.key}.{q_key}", f"quantity {_n(quantity)} {symbol} is "
                             f"over the limit of {_n(max_quantity)}")
        rule = n_key
        if max_notional is not None and quantity is not None:
            price, where = await reference_price(order, facts)
            notional = quantity * price
            if _over(notional, max_notional):
                return Rejection(f"{scope.key}.{n_key}", f"{_n(quantity)} {symbol} at "
                                 f"{_n(price)} ({where}) is {_n(notional)}, over the limit of "
                                 f"{_n(max_notional)}")
        rule = p_key
        if max_position is not None:
            return await _check_position(f"{scope.key}.{p_key}", order, facts, max_position)
    except FactUnavailable as exc:
        return Rejection(f"{scope.key}.{rule}", f"cannot check the limit: {exc}")
    return None


async def _check_position(
    rule: str, order: Order, facts: BrokerLookup, limit: float
) -> Rejection | None:
    now, expected = await facts.position_after_queued()
    after = position_after(expected, order)
    if not _over(abs(after), limit) or abs(after) < abs(expected):
        return None  # within the limit, or reducing a position that is over it
    queued = f", queued orders {_signed(expected - now)}" if expected != now else ""
    return Rejection(rule, f"the position in {order.symbol} would be {_n(after)} (now {_n(now)}"
                     f"{queued}, this order {_signed(after - expected)}), over the limit of "
                     f"{_n(limit)}")


def _over(value: float, limit: float) -> bool:
    return value > limit * (1 + TOLERANCE)


def _n(value: float) -> str:
    return f"{value:.10g}"


def _signed(value: float) -> str:
    return f"{value:+.10g}"
