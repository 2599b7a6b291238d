"""From a signal's symbol to a NinjaTrader instrument name (`ROOT MM-YY`).

`ES1!` (TradingView's continuous front month) is the quarterly contract that has not yet
rolled: contracts expire on the third Friday of March, June, September and December (NKD, the
CME's dollar Nikkei, on the business day before the second Friday), and roll `roll_days`
before. `ES2!` is the one after. `ESZ2025` and `ESZ25` are December 2025. An
explicit mapping wins over all of this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from plugins.errors import UnknownSymbol

MONTH_CODES = "FGHJKMNQUVXZ"  # January .. December
QUARTERLY_MONTHS = (3, 6, 9, 12)
_CONTINUOUS = re.compile(r"^([A-Z][A-Z0-9]{0,3}?)(\d)!$")
_CONTRACT = re.compile(r"^([A-Z][A-Z0-9]{0,3}?)([FGHJKMNQUVXZ])(\d{4}|\d{2})$")
_NINJATRADER = re.compile(r"^[A-Z][A-Z0-9]{0,4} \d{2}-\d{2}$")


SECOND_FRIDAY_ROOTS = frozenset({"NKD"})
"""CME Nikkei/USD futures: "Business Day prior to 2nd Friday of the contract month" (CME's
contract specifications), a Thursday unless it is a holiday, which is not modelled."""


def third_friday(year: int, month: int) -> date:
    return nth_friday(year, month, 3)


def nth_friday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 7 * (n - 1))


def expiry(root: str, year: int, month: int) -> date:
    """The last trading day of the root's contract for that month."""
    if root in SECOND_FRIDAY_ROOTS:
        return nth_friday(year, month, 2) - timedelta(days=1)
    return third_friday(year, month)


def quarterly_contract(root: str, today: date, roll_days: int, ahead: int = 0) -> str:
    """The contract `ahead` quarters after the front one, as `ROOT MM-YY`."""
    year, month = today.year, today.month
    month = next(m for m in QUARTERLY_MONTHS if m >= month)
    while True:
        if today < expiry(root, year, month) - timedelta(days=roll_days):
            if ahead == 0:
                return f"{root} {month:02d}-{year % 100:02d}"
            ahead -= 1
        month += 3
        if month > 12:
            month, year = month - 12, year + 1


def instrument_for(
    symbol: str,
    mapping: Mapping[str, str],
    quarterly_roots: Iterable[str],
    roll_days: int,
    today: date,
) -> str:
    if symbol in mapping:
        return mapping[symbol]
    base = symbol.rsplit(":", 1)[-1].strip().upper()
    if base in mapping:
        return mapping[base]
    if _NINJATRADER.match(base):
        return base
    continuous = _CONTINUOUS.match(base)
    if continuous:
        root, number = continuous.group(1), int(continuous.group(2))
        if root not in set(quarterly_roots) or number < 1:
            raise UnknownSymbol(
                f"no NinjaTrader contract for {symbol!r}: {root} is not a quarterly root; "
                f"map it in the plugin's instruments (\"{base}\" = \"{root} MM-YY\")"
            )
        return quarterly_contract(root, today, roll_days, number - 1)
    contract = _CONTRACT.match(base)
    if contract:
        root, code, year = contract.groups()
        return f"{root} {MONTH_CODES.index(code) + 1:02d}-{year[-2:]}"
    raise UnknownSymbol(
        f"{symbol!r} is not a futures contract NinjaTrader can trade (ES1!, ESZ2025, ES 12-25); "
        "map other instruments in the plugin's instruments"
    )
