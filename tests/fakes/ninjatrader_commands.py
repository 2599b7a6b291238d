"""The ATI's instructions as NinjaTrader checks them (NinjaTrader 8 Help Guide, Automated
Trading Interface > Commands and Valid Parameters, and Order Instruction Files for the field
order): what a simulated platform refuses, and why."""

from __future__ import annotations

from collections.abc import Container

FIELD_COUNT = 13
COMMANDS = {"CANCEL", "CANCELALLORDERS", "CHANGE", "CLOSEPOSITION", "CLOSESTRATEGY",
            "FLATTENEVERYTHING", "PLACE", "REVERSEPOSITION"}  # fmt: skip
ORDER_TYPES = {"MARKET", "LIMIT", "STOPMARKET", "STOPLIMIT"}


def check_change(f: list[str]) -> str | None:
    """CHANGE: "Pass in zero (0) values for price and quantity if you do not wish to change
    these order parameters"; a blank field is not documented, and refused."""
    blank = [name for i, name in ((4, "QTY"), (6, "LIMIT"), (7, "STOP")) if not f[i]]
    if blank:
        return f"CHANGE with blank {', '.join(blank)} (0 keeps a value, blank is not valid)"
    return None


def price_of(text: str) -> float | None:
    """A price field: blank or 0 is no price (the DLL sends 0)."""
    value = float(text) if text else 0.0
    return value or None  # the DLL sends 0 for "no price"


def check_order(f: list[str], used_ids: Container[str]) -> str | None:
    """What is wrong with a PLACE or REVERSEPOSITION, by the valid values of Commands and Valid
    Parameters (ORDER ID: "must be unique"; STRATEGY ID with a STRATEGY)."""
    if f[3] not in ("BUY", "SELL"):
        return f"action {f[3]!r} is not BUY or SELL"
    if not f[4].isdigit() or int(f[4]) < 1:
        return f"quantity {f[4]!r} is not a whole number of contracts"
    if f[5] not in ORDER_TYPES:
        return f"unknown order type {f[5]!r}"
    if f[8] not in ("DAY", "GTC"):
        return f"time in force {f[8]!r} is not DAY or GTC"
    try:
        limit, stop = price_of(f[6]), price_of(f[7])
    except ValueError:
        return "prices are not numbers"
    if f[5] in ("LIMIT", "STOPLIMIT") and limit is None:
        return f"{f[5]} needs a limit price"
    if f[5] in ("STOPMARKET", "STOPLIMIT") and stop is None:
        return f"{f[5]} needs a stop price"
    if f[10] and f[10] in used_ids:
        return f"order id {f[10]!r} is already used"
    if f[11] and not f[12]:
        return "an ATM strategy needs a strategy id"
    return None


def stop_out_of_range(market: float, action: str, stop: float) -> str | None:
    """Why a stop at `stop` is on the wrong side of the market: a sell stop must be below it, a
    buy stop above it (Stop Order Handling: "Stop order rejected due to price outside of
    range"; Flowbots support, "Avoid invalid price order rejection message")."""
    if stop >= market if action == "SELL" else stop <= market:
        where = "above" if action == "SELL" else "below"
        return f"{action.lower()} stop orders can't be placed {where} the market"
    return None
