"""Stop-loss and take-profit for an entry, in one of three ways:

- native: they travel with the entry (ccxt's `stopLoss` / `takeProfit` parameters) when the
  plugin declares `native_stop_loss_take_profit` (on exchanges whose ccxt class has
  `createOrderWithTakeProfitAndStopLoss`);
- oco: on Binance spot, both go in one OCO order list once the entry has filled, so that they
  share the amount bought and the first to trigger cancels the other;
- separate: once the entry has filled, reduce-only trigger orders on contract markets: one
  order holding both where the exchange makes it one-cancels-the-other (OKX's `oco` algo
  order, one call with both prices), else two triggers that do not cancel each other; on other
  spot exchanges one stop-loss or one take-profit sell (two would each need the whole amount).

Orders that cannot be protected this way are refused before anything is sent.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from plugins.ccxt.sizing import amount_at_precision, price_at_precision
from plugins.ccxt.symbols import Market, market_kind
from plugins.ccxt.trader import ExchangeTrader, Ticket
from plugins.errors import ExecutionError, OrderRejected
from plugins.orders import Order, OrderSide, OrderType
from plugins.orders import number_text as fmt


class BracketMode(StrEnum):
    NATIVE = "native"
    OCO = "oco"
    SEPARATE = "separate"


def bracket_mode(native: bool, exchange: Any, market: Market) -> BracketMode:
    """`native` is the plugin's `native_stop_loss_take_profit` capability."""
    if native:
        return BracketMode.NATIVE
    if market.get("spot") and hasattr(exchange, "private_post_orderlist_oco"):
        return BracketMode.OCO
    return BracketMode.SEPARATE


def has_bracket(order: Order) -> bool:
    return order.stop_loss is not None or order.take_profit is not None


def refuse_unprotectable(order: Order, market: Market, mode: BracketMode, what: str) -> None:
    """Refuse, before sending, an entry whose stop-loss or take-profit could not be placed."""
    if not has_bracket(order):
        return
    if market.get("spot") and order.side is OrderSide.SELL:
        raise OrderRejected(
            f"{what}: a spot sell opens no position, so it cannot carry a stop-loss or take-profit"
        )
    if mode is BracketMode.NATIVE:
        return
    if order.order_type is not OrderType.MARKET:
        raise OrderRejected(
            f"{what}: this exchange cannot attach a stop-loss or take-profit to a resting "
            f"{order.order_type.value} order; send a market entry, or the bracket separately"
        )
    both = order.stop_loss is not None and order.take_profit is not None
    if market.get("spot") and mode is BracketMode.SEPARATE and both:
        raise OrderRejected(
            f"{what}: on this exchange's spot market a position can hold either a stop-loss "
            "or a take-profit order, not both; send one of them"
        )


def native_params(exchange: Any, market: Market, order: Order, what: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if order.stop_loss is not None:
        price = price_at_precision(exchange, market, order.stop_loss, what)
        params["stopLoss"] = {"triggerPrice": float(price)}
    if order.take_profit is not None:
        price = price_at_precision(exchange, market, order.take_profit, what)
        params["takeProfit"] = {"triggerPrice": float(price)}
    return params


async def protect(
    trader: ExchangeTrader,
    market: Market,
    order: Order,
    amount: float,
    mode: BracketMode,
    what: str,
) -> str | None:
    """Place the stop-loss and take-profit for `amount` (exchange units) after the entry filled.

    Returns None when all went well, else what was not placed and why: the entry stands either
    way, so a failure here is reported with the entry's result instead of raised."""
    if not has_bracket(order) or mode is BracketMode.NATIVE:
        return None
    exchange = trader.exchange
    try:
        size = amount_at_precision(exchange, market, amount, what)
        if mode is BracketMode.OCO and order.stop_loss and order.take_profit:
            await _place_oco(trader, market, order, size, what)
            return None
        if _one_contract_oco(trader, market, order):
            await _place_triggers(trader, market, order, size, "oc", what)
            return None
    except ExecutionError as exc:
        return f"the entry filled, but its stop-loss and take-profit were not placed: {exc}"
    notes = []
    for kind, price, key, suffix in (
        ("stop-loss", order.stop_loss, "stopLossPrice", "sl"),
        ("take-profit", order.take_profit, "takeProfitPrice", "tp"),
    ):
        if price is None:
            continue
        try:
            await _place_triggers(trader, market, order, size, suffix, what, {key: price})
        except ExecutionError as exc:
            notes.append(f"the entry filled, but its {kind} was not placed: {exc}")
    return "; ".join(notes) or None


def _one_contract_oco(trader: ExchangeTrader, market: Market, order: Order) -> bool:
    both = order.stop_loss is not None and order.take_profit is not None
    kinds = trader.guarantees.native_oco
    return both and bool(market.get("contract")) and market_kind(market) in kinds


async def remove_protection(trader: ExchangeTrader, market: Market, what: str) -> str | None:
    """Cancel the symbol's reduce-only trigger orders (the stop-loss and take-profit of a
    position just closed or reversed), which would otherwise act on the next position.
    Returns None when done, else what was left and why (the close itself stands)."""
    if not market.get("contract"):
        return None
    try:
        triggers = await trader.trigger_orders(market, what)
        stale = [o for o in triggers if o.reduce_only is not False]
        await trader.cancel_triggers(stale, market, what)
    except ExecutionError as exc:
        return f"the old stop-loss and take-profit orders may still be open: {exc}"
    return None


async def _place_triggers(
    trader: ExchangeTrader,
    market: Market,
    order: Order,
    size: str,
    suffix: str,
    what: str,
    prices: dict[str, float] | None = None,
) -> None:
    """One trigger order closing `size`: at `prices` ({ccxt key: price}), by default both the
    order's stop-loss and take-profit (an exchange's one-cancels-the-other order)."""
    assert order.side is not None  # noqa: S101 - entries always have a side
    if prices is None:
        assert order.stop_loss is not None and order.take_profit is not None  # noqa: S101
        prices = {"stopLossPrice": order.stop_loss, "takeProfitPrice": order.take_profit}
    params: dict[str, Any] = {
        key: float(price_at_precision(trader.exchange, market, price, what))
        for key, price in prices.items()
    }
    trigger = " / ".join(fmt(value) for value in params.values())
    if market.get("contract"):
        params["reduceOnly"] = True
    ticket = Ticket(
        symbol=market["symbol"],
        type="market",
        side=order.side.opposite,
        amount=size,
        client_order_id=trader.client_id(order.client_order_id, suffix),
        params=params,
    )
    await trader.create(ticket, f"{ticket.side} {size} {market['symbol']} {suffix} at {trigger}")


async def _place_oco(
    trader: ExchangeTrader, market: Market, order: Order, size: str, what: str
) -> None:
    """Binance spot: sell `size` with a take-profit limit above and a stop-loss below."""
    assert order.stop_loss is not None and order.take_profit is not None  # noqa: S101
    exchange = trader.exchange
    request: dict[str, Any] = {
        "symbol": market["id"],
        "side": "SELL",
        "quantity": size,
        "aboveType": "LIMIT_MAKER",
        "abovePrice": price_at_precision(exchange, market, order.take_profit, what),
        "belowType": "STOP_LOSS",
        "belowStopPrice": price_at_precision(exchange, market, order.stop_loss, what),
    }
    if order.client_order_id is not None:
        request["listClientOrderId"] = trader.client_id(order.client_order_id, "oc")
        request["aboveClientOrderId"] = trader.client_id(order.client_order_id, "tp")
        request["belowClientOrderId"] = trader.client_id(order.client_order_id, "sl")
    label = (
        f"sell {size} {market['symbol']} OCO take-profit {fmt(order.take_profit)} "
        f"stop-loss {fmt(order.stop_loss)}"
    )
    with trader.translating(label, sent=True):
        await exchange.private_post_orderlist_oco(request)
