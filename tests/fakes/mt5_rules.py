"""How the fake trade server checks a request: filling modes, prices, stops, freeze, expiry.

Each rule names the page it follows. Where the pages are silent the rule says so: those
rules are the fake's guesses, listed as unconfirmed in docs/plugins/mt5.md.

Pages:
- FILL: MetaTrader 5 help, "Fill Policy" (metatrader5.com/en/mobile-trading/iphone/help/trade/
  general_concept/fill_policy): the table of fill policies per type of execution; "For market
  orders, the Return policy is used only in the Exchange Execution mode, while for limit and
  stop limit ones, it is applied in the Market Execution and Exchange Execution modes."
- MODES: MQL5 book, "Symbol trading conditions and order execution modes"
  (mql5.com/en/book/automation/symbols/symbols_execution_filling) and "Order execution modes by
  price and volume" (mql5.com/en/book/automation/experts/experts_execution_filling): "The ability
  to use FOK orders is determined by the presence of the SYMBOL_FILLING_FOK permission" (IOC
  likewise).
- LIMITS: MQL4 book, "Requirements and Limitations in Making Trades" (book.mql4.com/appendix/
  limits): the StopLevel and FreezeLevel tables, which MetaTrader 5's SYMBOL_TRADE_STOPS_LEVEL
  and SYMBOL_TRADE_FREEZE_LEVEL keep (mql5.com/en/docs/constants/environment_state/
  marketinfoconstants); StopLevel distances are "≥", FreezeLevel distances ">".
- EXPIRY: MQL5 book, "Pending order expiration rules" (mql5.com/en/book/automation/symbols/
  symbols_expiration): SYMBOL_EXPIRATION_MODE is a mask of the allowed ORDER_TIME_* modes.
- SEND: MetaTrader5 for Python, "order_send" (mql5.com/en/docs/python_metatrader5/
  mt5ordersend_py): the request fields; retcodes from MQL5 "Trade Server Return Codes".
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.fakes import mt5_structures as c

if TYPE_CHECKING:
    from tests.fakes.mt5_terminal import Symbol

Refusal = tuple[int, str] | None

BUYING = {c.ORDER_TYPE_BUY, c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP,
          c.ORDER_TYPE_BUY_STOP_LIMIT}
LIMITS = {c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_LIMIT}
STOPS = {c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_SELL_STOP}
STOP_LIMITS = {c.ORDER_TYPE_BUY_STOP_LIMIT, c.ORDER_TYPE_SELL_STOP_LIMIT}


def filling_allowed(s: Symbol, kind: int, filling: int) -> bool:
    """FILL and MODES. Instant and Request execution take fill or kill only (FILL's table).
    Otherwise FOK and IOC need their flag (MODES); RETURN is for market orders under Exchange
    execution, and for limit and stop-limit orders under Market or Exchange execution (FILL).
    Stop orders become market orders when triggered: the pages do not list them, so the fake
    (unconfirmed) holds them to the market-order rule."""
    instant = s.exemode in (c.SYMBOL_TRADE_EXECUTION_INSTANT, c.SYMBOL_TRADE_EXECUTION_REQUEST)
    if instant:
        return filling == c.ORDER_FILLING_FOK
    if filling == c.ORDER_FILLING_FOK:
        return bool(s.filling_mode & c.SYMBOL_FILLING_FOK)
    if filling == c.ORDER_FILLING_IOC:
        return bool(s.filling_mode & c.SYMBOL_FILLING_IOC)
    if filling == c.ORDER_FILLING_RETURN:
        if kind in LIMITS or kind in STOP_LIMITS:
            return True
        return s.exemode == c.SYMBOL_TRADE_EXECUTION_EXCHANGE
    return False


def on_grid(s: Symbol, price: float) -> bool:
    """marketinfoconstants: SYMBOL_TRADE_TICK_SIZE is the minimal price change. That an
    off-grid price is refused with INVALID_PRICE (and an off-grid stop with INVALID_STOPS) is
    what brokers answer in the field; the pages do not say it (unconfirmed)."""
    if not price:
        return True
    steps = Decimal(str(price)) / Decimal(str(s.tick_size))
    return steps == steps.to_integral_value()


def prices(s: Symbol, r: dict[str, Any]) -> Refusal:
    for name in ("price", "stoplimit"):
        if not on_grid(s, float(r.get(name) or 0.0)):
            return c.TRADE_RETCODE_INVALID_PRICE, f"Invalid price: {name} off the tick grid"
    for name in ("sl", "tp"):
        if not on_grid(s, float(r.get(name) or 0.0)):
            return c.TRADE_RETCODE_INVALID_STOPS, f"Invalid stops: {name} off the tick grid"
    return None


def _far(distance: float, points: int, s: Symbol, strict: bool = False) -> bool:
    needed = points * s.point
    return distance > needed + 1e-9 if strict else distance >= needed - 1e-9


def market_stops(s: Symbol, kind: int, r: dict[str, Any]) -> Refusal:
    """LIMITS, StopLevel table: Buy: Bid-SL ≥ StopLevel, TP-Bid ≥ StopLevel; Sell: SL-Ask ≥
    StopLevel, Ask-TP ≥ StopLevel. With a StopLevel of 0 a stop must still be on its side."""
    sl, tp = float(r.get("sl") or 0.0), float(r.get("tp") or 0.0)
    if kind == c.ORDER_TYPE_BUY:
        ok = (not sl or _far(s.bid - sl, s.stops_level, s, not s.stops_level)) and (
            not tp or _far(tp - s.bid, s.stops_level, s, not s.stops_level))
    else:
        ok = (not sl or _far(sl - s.ask, s.stops_level, s, not s.stops_level)) and (
            not tp or _far(s.ask - tp, s.stops_level, s, not s.stops_level))
    return None if ok else (c.TRADE_RETCODE_INVALID_STOPS, "Invalid stops")


def pending_prices(s: Symbol, kind: int, r: dict[str, Any]) -> Refusal:
    """LIMITS, StopLevel table for pending orders: BuyLimit Ask-Open ≥ StopLevel, SellLimit
    Open-Bid, BuyStop Open-Ask, SellStop Bid-Open; SL and TP at least StopLevel from the open
    price, on their side. A stop-limit's trigger is checked as a stop and its stops against its
    limit price (the pages do not cover stop-limits: unconfirmed). An open price on the wrong
    side of the market is INVALID_PRICE."""
    price, level = float(r.get("price") or 0.0), s.stops_level
    buying = kind in BUYING
    if kind in LIMITS:
        distance = s.ask - price if buying else price - s.bid
    else:
        distance = price - s.ask if buying else s.bid - price
    if distance <= 0 or not _far(distance, level, s):
        return c.TRADE_RETCODE_INVALID_PRICE, "Invalid price"
    base = float(r.get("stoplimit") or 0.0) or price
    sl, tp = float(r.get("sl") or 0.0), float(r.get("tp") or 0.0)
    below, above = (sl, tp) if buying else (tp, sl)
    ok = (not below or _far(base - below, level, s, not level)) and (
        not above or _far(above - base, level, s, not level))
    return None if ok else (c.TRADE_RETCODE_INVALID_STOPS, "Invalid stops")


def frozen_order(s: Symbol, order: dict[str, Any]) -> bool:
    """LIMITS, FreezeLevel table: a pending order cannot be deleted while its open price is
    within FreezeLevel of the market (BuyLimit Ask-Open > FreezeLevel, and so on)."""
    if not s.freeze_level:
        return False
    kind, price = order["type"], order["price_open"]
    buying = kind in BUYING
    if kind in LIMITS:
        distance = s.ask - price if buying else price - s.bid
    else:
        distance = price - s.ask if buying else s.bid - price
    return not _far(distance, s.freeze_level, s, strict=True)


def frozen_position(s: Symbol, position: dict[str, Any]) -> bool:
    """LIMITS, FreezeLevel table: a position cannot be closed while its SL or TP is within
    FreezeLevel of the price it would close at (Buy: Bid-SL > FreezeLevel, TP-Bid > ...)."""
    if not s.freeze_level:
        return False
    sl, tp = position["sl"], position["tp"]
    if position["type"] == c.POSITION_TYPE_BUY:
        near = (sl and not _far(s.bid - sl, s.freeze_level, s, True)) or (
            tp and not _far(tp - s.bid, s.freeze_level, s, True))
    else:
        near = (sl and not _far(sl - s.ask, s.freeze_level, s, True)) or (
            tp and not _far(s.ask - tp, s.freeze_level, s, True))
    return bool(near)


_EXPIRY_FLAG = {c.ORDER_TIME_GTC: c.SYMBOL_EXPIRATION_GTC,
                c.ORDER_TIME_DAY: c.SYMBOL_EXPIRATION_DAY,
                c.ORDER_TIME_SPECIFIED: c.SYMBOL_EXPIRATION_SPECIFIED,
                c.ORDER_TIME_SPECIFIED_DAY: c.SYMBOL_EXPIRATION_SPECIFIED_DAY}


def expiration(s: Symbol, r: dict[str, Any]) -> Refusal:
    """EXPIRY: a pending order's type_time must be one the symbol's expiration_mode allows;
    INVALID_EXPIRATION (10022) otherwise."""
    flag = _EXPIRY_FLAG.get(int(r.get("type_time", c.ORDER_TIME_GTC)), 0)
    if s.expiration_mode & flag:
        return None
    return c.TRADE_RETCODE_INVALID_EXPIRATION, "Invalid expiration"


def stored_comment(comment: str, limit: int, rewrite: str, ticket: int) -> str:
    """What the server keeps of a request's comment. The pages give only the 31-character limit
    of the request (SEND; MetaTrader 5 help, "Instant Execution": "The maximal comment length
    is 31 symbols"); servers that keep fewer characters, or rewrite comments, are reported by
    users and not documented: `limit` and `rewrite` are the fake's switches for them."""
    if rewrite == "replace":
        return f"#{ticket}"
    if rewrite == "suffix":
        comment = f"{comment} [srv]"
    return comment[:limit] if limit else comment
