"""Prices as the trade server takes them: on the symbol's tick grid, with stops outside its
stops level, and filling modes its execution mode allows.

- Filling (MetaTrader 5 help, "Fill Policy"; MQL5 book, "Order execution modes by price and
  volume"): Instant and Request execution take fill or kill only; Market execution takes FOK and
  IOC where the symbol's `filling_mode` flags allow them; Exchange execution also takes RETURN
  for market orders. Limit and stop-limit orders rest with RETURN under Market or Exchange
  execution.
- Prices (MQL5 "Symbol Properties"): `trade_tick_size` is the smallest price change; a price off
  that grid is refused (INVALID_PRICE). Stop-loss and take-profit must keep `trade_stops_level`
  points from the price they are measured against (MQL4 book, "Requirements and Limitations in
  Making Trades": Bid for a buy's stops, Ask for a sell's, the open price for a pending order's).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from plugins.errors import OrderRejected
from plugins.mt5.records import SymbolSpec

FOK, IOC, RETURN = "fok", "ioc", "return"
SYMBOL_FILLING_FOK = 1
SYMBOL_FILLING_IOC = 2
EXECUTION = {0: "Request", 1: "Instant", 2: "Market", 3: "Exchange"}
"""SYMBOL_TRADE_EXECUTION_REQUEST, _INSTANT, _MARKET, _EXCHANGE"""


def market_fillings(spec: SymbolSpec) -> list[str]:
    """The filling modes a market (or triggered stop) order may take, best first."""
    if spec.trade_exemode in (0, 1):
        return [FOK]
    allowed = [FOK] if spec.filling_mode & SYMBOL_FILLING_FOK else []
    if spec.filling_mode & SYMBOL_FILLING_IOC:
        allowed.append(IOC)
    if spec.trade_exemode == 3:
        allowed.append(RETURN)
    return allowed


def resting_fillings(spec: SymbolSpec) -> list[str]:
    """The filling modes of a limit or stop-limit order: RETURN where it can rest."""
    if spec.trade_exemode in (0, 1):
        return [FOK]
    return [RETURN]


def describe_execution(spec: SymbolSpec) -> str:
    execution = EXECUTION.get(spec.trade_exemode, str(spec.trade_exemode))
    return f"{execution} execution, filling flags {spec.filling_mode}"


def to_tick(price: float, spec: SymbolSpec) -> float:
    """The price rounded to the nearest multiple of the tick size, in the symbol's digits."""
    size = spec.trade_tick_size or spec.point or 10.0**-spec.digits
    tick = Decimal(str(size))
    steps = (Decimal(str(price)) / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return round(float(steps * tick), spec.digits)


def check_stops(
    spec: SymbolSpec,
    buying: bool,
    reference: float,
    stop_loss: float | None,
    take_profit: float | None,
    what: str,
    against: str,
) -> None:
    """Refuse stops on the wrong side of `reference`, or nearer than the stops level."""
    distance = spec.trade_stops_level * spec.point
    room = f"{spec.name}'s stops level ({spec.trade_stops_level} points)"
    for name, value, below in (("stop_loss", stop_loss, buying), ("take_profit", take_profit,
                                                                   not buying)):  # fmt: skip
        if value is None:
            continue
        limit = round(reference - distance if below else reference + distance, spec.digits)
        wrong = value > limit + 1e-9 if below else value < limit - 1e-9
        if distance == 0:
            wrong = value >= reference if below else value <= reference
        if wrong:
            where = "below" if below else "above"
            bound = "at most" if below else "at least"
            raise OrderRejected(
                f"cannot {what}: {name} {value:g} must be {where} {against} {reference:g}"
                + (f" by {room}, so {bound} {limit:g}" if distance else "")
            )


def check_entry(spec: SymbolSpec, kind: str, buying: bool, price: float, bid: float,
                ask: float, what: str) -> None:  # fmt: skip
    """A pending order's price: limits below the ask (buy) or above the bid (sell), stops the
    other way, at least the stops level away (the same Requirements table)."""
    distance = spec.trade_stops_level * spec.point
    market = ask if buying else bid
    below = (kind == "limit") is buying
    gap = market - price if below else price - market
    if gap <= 0 or gap < distance - 1e-9:
        where = "below" if below else "above"
        level = f" by {spec.name}'s stops level ({spec.trade_stops_level} points)"
        need = level if distance else ""
        raise OrderRejected(
            f"cannot {what}: a {'buy' if buying else 'sell'} {kind} at {price:g} must be {where} "
            f"the market {market:g}{need}"
        )
