"""A contract position's protective stop held at the exchange: one reduce-only stop-market
trigger for the whole position, placed and moved for managed exits (`move_position_stop`).

A move places the new trigger first and cancels the previous ones after it, so the position is
never without a stop; both being reduce-only, the two cannot together add to the position.
Their client ids are `position_stop_id(market, n)`: a stem derived from the market, the suffix
`ps` and a counter, so a restart finds the current stop (the highest counter) in the exchange's
listing of trigger orders, with nothing kept in memory, and `orphans` keeps it while the
position is open and cancels it once the market is flat (`is_position_stop`). A repeat of the
current stop (same price, same size), as the exits manager sends at start, sends nothing.

Only contract markets: a spot "position" is coins held, where no order can be reduce-only, and
a second stop-loss sell could sell coins that other orders or the user hold.
"""

from __future__ import annotations

import base64
import hashlib
import re

from plugins.ccxt.results import CcxtOrder
from plugins.ccxt.sizing import amount_at_precision, price_at_precision
from plugins.ccxt.symbols import Market
from plugins.ccxt.trader import ExchangeTrader, Ticket
from plugins.errors import ExecutionError, OrderRejected
from plugins.orders import Order, OrderSide
from plugins.orders import number_text as fmt

STOP_SUFFIX = "ps"
_STEM_LENGTH = 22
_POSITION_STOP = re.compile(rf"([A-Z2-7]{{{_STEM_LENGTH}}}){STOP_SUFFIX}([0-9]{{1,8}})")
"""22 base32 characters, `ps`, a counter: 32 at most, letters and digits (OKX's algoClOrdId
rule, and within Bybit's orderLinkId one)."""


def without_plan_stop(order: Order) -> Order:
    """The entry as sent where the exchange holds the position's stop: an entry with exits
    goes without its stop-loss, which is their plan's first stop, placed as the position stop
    right after the fill (and again at every start). Attached too, it would be a second stop
    that the plan's moves leave behind."""
    if order.exits is None or order.stop_loss is None:
        return order
    return order.model_copy(update={"stop_loss": None})


def position_stop_id(market: Market, counter: int) -> str:
    """The client id of the `counter`th stop placed for the position in `market`."""
    digest = hashlib.sha256(f"tradehook position stop {market['id']}".encode()).digest()
    stem = base64.b32encode(digest).decode()[:_STEM_LENGTH]
    return f"{stem}{STOP_SUFFIX}{counter}"


def is_position_stop(trigger: CcxtOrder) -> bool:
    """A position stop of ours (any market): reduce-only, under a position stop client id."""
    client_id = trigger.client_order_id or ""
    return trigger.reduce_only is True and _POSITION_STOP.fullmatch(client_id) is not None


def _counter(trigger: CcxtOrder, market: Market) -> int | None:
    """The trigger's counter when it is a position stop of this market, else None."""
    found = _POSITION_STOP.fullmatch(trigger.client_order_id or "")
    if found is None or trigger.reduce_only is not True:
        return None
    counter = int(found.group(2))
    return counter if position_stop_id(market, counter) == found.group(0) else None


async def move_stop(trader: ExchangeTrader, market: Market, side: OrderSide,
                    stop_price: float) -> str | None:
    """Place or move the stop of the open `side` position in `market` to `stop_price`.

    Raises `OrderRejected` without a position on that side or with the stop on the wrong side
    of the last price (which the trigger watches). Returns None when done, else what is left
    over and why: the new stop stands, but an older one could not be cancelled (both are
    reduce-only; the next move cancels it again)."""
    which = "long" if side is OrderSide.BUY else "short"
    symbol = market["symbol"]
    what = f"move the stop of the {which} position in {symbol} to {fmt(stop_price)}"
    ours = {}
    for trigger in await trader.trigger_orders(market, what):  # first: see `orphans`
        counter = _counter(trigger, market)
        if counter is not None:
            ours[counter] = trigger
    held = sum(p.contracts for p in await trader.positions(market, what) if p.side is side)
    if held <= 0:
        raise OrderRejected(f"no open {which} position in {symbol} to hold a stop")
    exchange = trader.exchange
    stop = float(price_at_precision(exchange, market, stop_price, what))
    size = amount_at_precision(exchange, market, held, what)
    current = ours[max(ours)] if ours else None
    if current is not None and _holds(current, stop, float(size)):
        return await _cancel_older(trader, market, ours, max(ours), what)
    last = await trader.last_price(market, what)
    if last is not None and (stop >= last if side is OrderSide.BUY else stop <= last):
        where = "below" if side is OrderSide.BUY else "above"
        raise OrderRejected(f"{what}: the stop of a {which} position must be {where} the last "
                            f"price {fmt(last)}")
    counter = max(ours, default=0) + 1
    ticket = Ticket(symbol=symbol, type="market", side=side.opposite, amount=size,
                    client_order_id=position_stop_id(market, counter),
                    params={"stopLossPrice": stop, "reduceOnly": True})
    await trader.create(ticket, f"{ticket.side} {size} {symbol} stop at {fmt(stop)}")
    return await _cancel_older(trader, market, ours, counter, what)


def _holds(trigger: CcxtOrder, stop: float, size: float) -> bool:
    price = trigger.stop_loss_price or trigger.trigger_price
    return price is not None and abs(price - stop) < 1e-9 * max(stop, 1.0) and (
        trigger.amount is not None and abs(trigger.amount - size) < 1e-12 * max(size, 1.0))


async def _cancel_older(trader: ExchangeTrader, market: Market, ours: dict[int, CcxtOrder],
                        current: int, what: str) -> str | None:
    older = [trigger for counter, trigger in ours.items() if counter < current]
    if not older:
        return None
    try:
        await trader.cancel_triggers(older, market, what)
    except ExecutionError as exc:
        return f"{what}: the new stop stands, but the previous one may still be open: {exc}"
    return None
