"""Sizing: turn the quantity an alert gave (in its unit) into the quantity to send.

    [sources.tv.sizing]
    unit = "quote"       # how quantities without a unit of their own are read
    quantity = 100       # used when an opening alert carries no quantity

Units: `units` (sent as it is), `quote` (an amount of quote currency divided by the price),
`percent_of_equity`, `percent_of_position`, `risk_amount` and `risk_percent` (sized so that the
stop-loss loses that amount or that share of equity: per unit, the distance to the stop, or
where the plugin reports a tick value, as MetaTrader does per lot, that many ticks of it). The
price is the order's limit or stop
price, else the plugin's ask (to buy) or bid (to sell), else the alert's signal price. The note
returned with the order says how its quantity was computed; the journal keeps it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plugins.orders import Order, OrderAction, OrderType
from webhook.decide.broker_lookup import BrokerLookup
from webhook.decide.quantities import QuantityUnit, RelativeBracket, price_away
from webhook.errors import FactNotReported, FactUnavailable, SizingError

PRICED_UNITS = frozenset(
    {QuantityUnit.QUOTE, QuantityUnit.PERCENT_OF_EQUITY, QuantityUnit.RISK_AMOUNT,
     QuantityUnit.RISK_PERCENT}
)


class SizingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: QuantityUnit = QuantityUnit.UNITS
    """How alert quantities are read when the alert does not say (TradersPost's quantityType,
    PineConnector's vol_lots= and the native quantity_unit do)."""
    quantity: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    """The quantity (in `unit`) of opening alerts that carry none."""


@dataclass(frozen=True)
class SizedOrder:
    order: Order
    note: str | None
    """How the quantity was computed, e.g. `100 quote / 67506.75 (ask from plugin 'mock')`."""


async def size_order(
    order: Order,
    unit: QuantityUnit,
    facts: BrokerLookup,
    *,
    bracket: RelativeBracket | None = None,
    origin: str = "the alert",
) -> SizedOrder:
    """The order with its quantity in units and its relative bracket placed. `origin` says
    where the quantity came from (the alert, or a source's default)."""
    opening = order.action in (OrderAction.OPEN, OrderAction.REVERSE)
    needs_price = (order.quantity is not None and unit in PRICED_UNITS) or (
        bracket is not None and opening
    )
    try:
        entry = await reference_price(order, facts) if needs_price else None
        update: dict[str, float] = {}
        if bracket is not None and opening and entry is not None and order.side is not None:
            if bracket.stop_loss is not None:
                update["stop_loss"] = price_away(entry[0], bracket.stop_loss, order.side,
                                                 profit=False)
            if bracket.take_profit is not None:
                update["take_profit"] = price_away(entry[0], bracket.take_profit, order.side,
                                                   profit=True)
        stop_loss = update.get("stop_loss", order.stop_loss)
        note = None
        if order.quantity is not None:
            quantity, note = await _quantity(order.quantity, unit, facts, entry, stop_loss)
            if quantity != order.quantity:
                update["quantity"] = quantity
            note = f"{note} ({origin})"
    except FactUnavailable as exc:
        raise SizingError(str(exc)) from None
    if not update:  # the order as validated: nothing to check again
        return SizedOrder(order, note)
    try:
        sized = Order.model_validate({**order.model_dump(), **update})
    except ValidationError as exc:
        raise SizingError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
    return SizedOrder(sized, note)


async def reference_price(order: Order, facts: BrokerLookup) -> tuple[float, str]:
    """The price sizing and notional limits measure with, and where it came from."""
    if order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and order.price is not None:
        return order.price, "limit price"
    if order.order_type is OrderType.STOP and order.stop_price is not None:
        return order.stop_price, "stop price"
    try:
        return await facts.market_price(order.side)
    except FactUnavailable:
        if order.price is None:
            raise
        return order.price, "the alert's signal price"


async def _quantity(
    amount: float,
    unit: QuantityUnit,
    facts: BrokerLookup,
    entry: tuple[float, str] | None,
    stop_loss: float | None,
) -> tuple[float, str]:
    if unit is QuantityUnit.UNITS:
        return amount, f"{amount:.10g} units"
    if unit is QuantityUnit.PERCENT_OF_POSITION:
        position = await facts.position()
        if position == 0:
            raise SizingError(f"{amount:.10g}% of the position: there is no open position")
        return _checked(abs(position) * amount / 100,
                        f"{amount:.10g}% of the position {abs(position):.10g}")
    assert entry is not None  # noqa: S101 - PRICED_UNITS always have one
    price, where = entry
    if unit is QuantityUnit.QUOTE:
        return _checked(amount / price, f"{amount:.10g} quote / {price:.10g} ({where})")
    if unit in (QuantityUnit.RISK_AMOUNT, QuantityUnit.RISK_PERCENT):
        if stop_loss is None:
            raise SizingError(f"sizing by {unit.value} needs a stop-loss to measure the risk")
        distance = abs(price - stop_loss)
        if distance == 0:
            raise SizingError("the stop-loss is at the entry price: the risk per unit is 0")
        risk, said = amount, f"risk {amount:.10g}"
        if unit is QuantityUnit.RISK_PERCENT:
            balance = await facts.balance()
            risk = balance.equity * amount / 100
            said = (f"risk {amount:.10g}% of equity {balance.equity:.10g} {balance.currency} "
                    f"= {risk:.10g}")
        per_unit, how = await _loss_per_unit(
            distance, f"|{price:.10g} ({where}) - stop-loss {stop_loss:.10g}|", facts)
        return _checked(risk / per_unit, f"{said} / {how}")
    balance = await facts.balance()
    notional = balance.equity * amount / 100
    return _checked(
        notional / price,
        f"{amount:.10g}% of equity {balance.equity:.10g} {balance.currency} = {notional:.10g} / "
        f"{price:.10g} ({where})",
    )


async def _loss_per_unit(distance: float, said: str, facts: BrokerLookup) -> tuple[float, str]:
    """What the stop loses on one unit of quantity: with the broker's tick value where it
    reports one (MetaTrader: per lot, in the account currency), else the distance itself where
    a unit is one of the asset, priced in the quote currency; refused for lots and contracts
    whose tick value the plugin does not know."""
    try:
        specs = await facts.symbol_specs()
    except FactNotReported:
        return distance, said
    if specs.tick_value is None:
        if not specs.quantity_in_base:
            raise SizingError(f"the plugin does not know what one tick of {specs.symbol} is "
                              "worth per lot or contract, which sizing by risk needs")
        return distance, said
    tick = specs.tick_size or specs.point
    loss = distance / tick * specs.tick_value
    return loss, f"({said} / tick {tick:.10g} x tick value {specs.tick_value:.10g})"


def _checked(quantity: float, how: str) -> tuple[float, str]:
    if not math.isfinite(quantity) or quantity <= 0:
        raise SizingError(f"{how} gives no quantity")
    rounded = float(f"{quantity:.12g}")
    return rounded, f"{how} = {rounded:.10g}"
