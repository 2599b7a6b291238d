"""Protection of a position whose entry was found by a lookup, perhaps by another process.

The bracket of an entry whose answer was lost is placed once a lookup finds the entry filled.
Within one process the plugin remembers the order (`Actions.awaiting_protection`); after a
restart the caller passes the order as the journal holds it to `lookup_order`, and this module
places the bracket unless the exchange shows it was placed already: a live protective order of
ours (contracts), or any order under a protective client id (spot, where Binance finds closed
orders too), or no position left to protect. A partly filled entry is protected for what it
filled; a spot one for what it put in the account (`ExchangeTrader.received`: its trades, else
the free balance). A reverse on contracts is protected for the position it left.
"""

from __future__ import annotations

from plugins.ccxt.actions import Actions
from plugins.ccxt.brackets import BracketMode, bracket_mode, has_bracket, protect
from plugins.ccxt.orphans import PROTECTIVE_SUFFIXES, cancel_orphans
from plugins.ccxt.results import CcxtOrder
from plugins.ccxt.sizing import exchange_amount
from plugins.ccxt.symbols import Market
from plugins.errors import OrderRejected, OutcomeUnknown
from plugins.orders import ExecutionResult, Order, OrderAction


async def protect_found_entry(
    actions: Actions, order: Order, market: Market, entry: CcxtOrder
) -> ExecutionResult:
    """`order` opened (or, as a reverse, flipped) a position: make sure it is protected."""
    result = actions.result_of(entry, market)
    if not result.success or result.filled_quantity <= 0:
        return result
    if order.action is OrderAction.REVERSE and market.get("contract"):
        return await _protect_found_reverse(actions, order, market, result)
    if not has_bracket(order):
        return result
    mode = bracket_mode(actions.native_for(market), actions.trader.exchange, market)
    if mode is BracketMode.NATIVE:
        return result  # attached to the entry: the exchange placed them with it
    try:
        placed = await _already_protected(actions, order, market)
    except OutcomeUnknown as exc:
        note = f"the entry filled; whether its stop-loss and take-profit exist is unknown: {exc}"
        return result.model_copy(update={"error": note})
    if placed:
        return result
    return await actions.protect_filled(order, market, entry)


async def _already_protected(actions: Actions, order: Order, market: Market) -> bool:
    trader = actions.trader
    what = f"protection of {order.describe(market['symbol'], on=trader.exchange_id)}"
    ours = {trader.client_id(order.client_order_id, suffix) for suffix in PROTECTIVE_SUFFIXES}
    if market.get("contract"):
        if not await trader.positions(market, what):
            return True  # nothing left to protect: the bracket (or a person) closed it
        triggers = await trader.trigger_orders(market, what)
        return any(t.client_order_id in ours for t in triggers)
    legs = {trader.client_id(order.client_order_id, suffix) for suffix in ("sl", "tp")}
    for client_id in sorted(c for c in legs if c is not None):  # an OCO's legs are orders
        if await trader.find(client_id, market["symbol"]) is not None:
            return True
    return False


async def _protect_found_reverse(
    actions: Actions, order: Order, market: Market, result: ExecutionResult
) -> ExecutionResult:
    """A reverse on contracts always places its bracket separately, for the new position:
    what is held now on the reverse's side, at most the quantity it asked to open. The old
    position's triggers (now on the side that would add to it) are cancelled first."""
    trader = actions.trader
    what = order.describe(market["symbol"], on=trader.exchange_id)
    notes: list[str | None] = []
    try:
        await cancel_orphans(trader, market)
    except OrderRejected as exc:
        notes.append(f"the old stop-loss and take-profit orders may still be open: {exc}")
    if has_bracket(order) and not await _already_protected(actions, order, market):
        positions = await trader.positions(market, what)
        held = sum(p.contracts for p in positions if p.side is order.side)
        if order.quantity is not None:
            held = min(held, exchange_amount(market, actions.unit, order.quantity))
        if held > 0:
            notes.append(await protect(trader, market, order, held, BracketMode.SEPARATE, what))
    note = "; ".join(n for n in notes if n)
    return result.model_copy(update={"error": note}) if note else result
