"""Stop-losses, take-profits and pending entries placed and checked against the market, before
anything is sized, stored as queued or sent.

    [sources.tv.protective_prices]
    max_distance_percent = 50   # farther from the market (or the entry) is refused

For an opening order, in this order:
- distances in pips become prices with the broker's symbol specs (`SymbolSpecs.pip`), the
  managed exits' (`webhook.decide.exit_distances`) as well as the stop-loss's and take-profit's;
- a pending entry given as a distance (PineConnector's Pending Order Entry in pips or percent) is
  placed from the market: a buy limit and a sell stop below it, a buy stop and a sell limit above;
- the market price is the alert's own price where it carries one (a market order's `price`,
  TradingView's `{{close}}`), else the plugin's ask to buy and bid to sell;
- a market order's stop-loss must be on the losing side of that price and its take-profit on the
  winning side; a stop entry must not be triggered already (a buy stop below the market);
- a stop or target more than `max_distance_percent` from its entry (the market, for a market
  order), or an entry that far from the market, is implausible: most likely pips or points read
  as a price, or a price meant for another symbol.

A price on the wrong side or implausibly far is a `PayloadError` (400, stored as invalid) that
names the alert's field and the likely cause. A plugin that cannot report a symbol's pip size, or
whose quote fails, yields `FactUnavailable` (the signal is rejected, rule `protective_prices`).
A plugin that does not quote at all (NinjaTrader through order files) leaves the checks against
the market out; the order's own checks against its entry still apply. A limit entry on the far
side of the market is allowed: it is a marketable limit order, a legitimate way to buy now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from plugins.orders import Order, OrderAction, OrderSide, OrderType, number_text
from webhook.decide.broker_lookup import BrokerLookup
from webhook.decide.quantities import (
    PendingEntry,
    PriceOffset,
    RelativeBracket,
    price_away,
    resolve_bracket,
)
from webhook.dialects import ParsedSignal
from webhook.dialects.signal import build_order
from webhook.errors import FactNotReported, FactUnavailable, PayloadError

RULE = "protective_prices"
_LABELS = {"stop_loss": "stop-loss", "take_profit": "take-profit", "price": "entry",
           "stop_price": "stop entry"}


class ProtectivePriceSettings(BaseModel):
    """`[sources.NAME.protective_prices]`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_distance_percent: Annotated[float, Field(gt=0, le=1000)] = 50.0
    """How far (in percent of the price it is measured from) a stop, target or pending entry
    may be before it is refused as implausible."""


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    bracket: RelativeBracket | None
    """What is still a distance from the market (measured by sizing from the same price)."""


@dataclass(frozen=True)
class _Context:
    parsed: ParsedSignal
    source: str
    limit: float


async def place_protective_prices(
    parsed: ParsedSignal,
    order: Order,
    facts: BrokerLookup,
    settings: ProtectivePriceSettings,
    *,
    source: str,
) -> PlacedOrder:
    """`order` with its pips placed, its pending entry placed and every protective price
    checked. Raises `PayloadError` (a price to refuse) or `FactUnavailable`."""
    bracket, pending, side = parsed.bracket, parsed.pending_entry, order.side
    if order.action not in (OrderAction.OPEN, OrderAction.REVERSE) or side is None:
        return PlacedOrder(order, bracket)
    if parsed.exit_distances is not None:
        order = _with_exits_in_price(order, parsed, await _pip(facts))
    if not (bracket or pending or order.stop_loss or order.take_profit
            or order.order_type is not OrderType.MARKET):
        return PlacedOrder(order, bracket)
    context = _Context(parsed, source, settings.max_distance_percent)
    if (bracket and bracket.in_pips) or (pending and pending.offset.pips is not None):
        pip = await _pip(facts)
        bracket = bracket.in_pips_of(pip) if bracket else None
        if pending is not None:
            pending = PendingEntry(order_type=pending.order_type,
                                   offset=pending.offset.in_pips_of(pip))
    market = await _market_price(order, facts)
    if pending is not None:
        if market is None:
            raise FactUnavailable(f"{pending.offset.field}= {pending.offset.describe()} from "
                                  f"the market needs the market price: plugin "
                                  f"{facts.plugin_name!r} does not quote")
        order = _with_entry(order, pending, market[0], context)
    if order.order_type is OrderType.MARKET:
        if market is not None:
            _check_bracket(order, bracket, market, context)
        return PlacedOrder(order, bracket)
    entry = order.entry_price
    assert entry is not None  # noqa: S101 - Order checks pending orders have one
    if bracket is not None:
        fields = order.model_dump()
        resolve_bracket(fields, bracket, entry, side)
        order, bracket = build_order(fields, renamed=parsed.price_fields), None
    if market is not None:
        _check_entry(order, entry, market, context)
    _check_bracket(order, None, (entry, "the entry"), context)
    return PlacedOrder(order, None)


def _with_exits_in_price(order: Order, parsed: ParsedSignal, pip: float) -> Order:
    """`order` with the exits the alert gave in pips, in price units."""
    assert parsed.exit_distances is not None  # noqa: S101 - the caller checks
    fields = order.model_dump()
    fields["exits"] = {**(fields.get("exits") or {}), **parsed.exit_distances.in_price(pip)}
    return build_order(fields, renamed=parsed.price_fields)


async def _pip(facts: BrokerLookup) -> float:
    try:
        return (await facts.symbol_specs()).pip
    except FactUnavailable as exc:
        raise FactUnavailable(f"a distance in pips needs the symbol's pip size: {exc}") from None


async def _market_price(order: Order, facts: BrokerLookup) -> tuple[float, str] | None:
    """The alert's own price on a market order, else the plugin's; None when it cannot quote."""
    if order.order_type is OrderType.MARKET and order.price is not None:
        return order.price, "the alert's price"
    try:
        return await facts.market_price(order.side)
    except FactNotReported:
        return None


def _with_entry(order: Order, pending: PendingEntry, market: float, context: _Context) -> Order:
    kind = pending.order_type
    buying = order.side is OrderSide.BUY
    below = buying == (kind is OrderType.LIMIT)  # a buy limit or a sell stop waits below
    side = OrderSide.SELL if below else OrderSide.BUY  # price_away: a sell's "profit" is below
    entry = price_away(market, pending.offset, side, profit=True)
    _check_far(pending.offset.field, entry, _phrase(market, "the market price"), market,
               context, "")
    if entry <= 0:
        raise PayloadError(pending.offset.field, f"{pending.offset.describe()} below the market "
                                                 f"price {number_text(market)} is not a price")
    target = "stop_price" if kind is OrderType.STOP else "price"
    fields: dict[str, Any] = {**order.model_dump(), "order_type": kind.value, target: entry}
    return build_order(fields, renamed={target: pending.offset.field})


def _check_entry(
    order: Order, entry: float, market: tuple[float, str], context: _Context
) -> None:
    field = "stop_price" if order.order_type is OrderType.STOP else "price"
    price, where = market
    name = context.parsed.price_fields.get(field, field)
    if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and order.stop_price:
        trigger = order.stop_price
        buying = order.side is OrderSide.BUY
        if (trigger < price) if buying else (trigger > price):
            place = "above" if buying else "below"
            raise PayloadError(
                context.parsed.price_fields.get("stop_price", "stop_price"),
                f"a {order.side} stop's trigger must be {place} {_phrase(price, where)}, got "
                f"{number_text(trigger)}: it would trigger at once"
                f"{_hint(context, 'stop_price')}",
            )
    _check_far(name, entry, _phrase(price, where), price, context, _hint(context, field))


def _check_bracket(
    order: Order, bracket: RelativeBracket | None, reference: tuple[float, str],
    context: _Context,
) -> None:
    """Stops and targets against the market price (market orders) or the entry."""
    price, where = reference
    buying = order.side is OrderSide.BUY
    for field, losing in (("stop_loss", True), ("take_profit", False)):
        value = getattr(order, field)
        if value is None:
            offset: PriceOffset | None = getattr(bracket, field) if bracket else None
            if offset is not None:
                away = price_away(price, offset, order.side or OrderSide.BUY,
                                  profit=not losing)
                _check_far(offset.field, away, _phrase(price, where), price, context, "")
            continue
        name = context.parsed.price_fields.get(field, field)
        below = buying == losing  # a buy's stop-loss and a sell's take-profit are below
        if (value >= price) if below else (value <= price):
            place = "below" if below else "above"
            raise PayloadError(
                name, f"{_LABELS[field]} {number_text(value)} must be {place} "
                f"{_phrase(price, where)} for a {order.side}{_hint(context, field)}",
            )
        _check_far(name, value, _phrase(price, where), price, context, _hint(context, field))


def _phrase(price: float, where: str) -> str:
    """`the entry 1.085`, `the market price 190.112 (bid from plugin 'mt5')`."""
    if where in ("the entry", "the market price"):
        return f"{where} {number_text(price)}"
    return f"the market price {number_text(price)} ({where})"


def _check_far(
    name: str, value: float, what: str, base: float, context: _Context, hint: str
) -> None:
    percent = abs(value - base) / base * 100
    if percent > context.limit:
        raise PayloadError(
            name, f"{number_text(value)} is {percent:.3g}% away from {what}, more than "
            f"sources.{context.source}.protective_prices.max_distance_percent "
            f"({context.limit:g}%){hint}",
        )


def _hint(context: _Context, field: str) -> str:
    """The likely cause, where the dialect suggests one."""
    written = context.parsed.price_fields.get(field, field)
    if context.parsed.dialect == "pineconnector" and written in ("sl", "tp"):
        return (f"; PineConnector's EA reads {written}= in pips by default: for alerts written "
                f"for that, set sources.{context.source}.pineconnector.target_type = \"pips\"")
    if context.parsed.dialect == "pineconnector" and written == "price":
        return (f"; PineConnector's EA can read price= as pips from the market: for alerts "
                f"written for that, set sources.{context.source}.pineconnector.pending_entry "
                f"= \"pips\"")
    return "; check the alert's side, and that the price is meant for this symbol"
