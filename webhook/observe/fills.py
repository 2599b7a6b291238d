"""Fills read from the journal, and realised profit and loss matched first in, first out.

A fill is a signal the journal shows filled or partly filled (`webhook.journal.period.FillRow`):
its result's filled quantity at its average price, on the order's side (a `close` without a side
trades against what is held). Fills are matched per plugin and symbol in the order they were
journaled: a fill against the held side closes the oldest lots first, at their own prices, and
what is left of it opens a new lot. The realised P&L of a fill is `(exit - entry) x quantity`
over the lots it closed, in the symbol's quote currency, before fees and without a contract
multiplier. Only fills inside the period are matched: a position opened before it counts as not
held.

Slippage is measured against the alert's price (the order's limit or stop, else the price the
alert carried, e.g. TradingView's `{{close}}`), signed so that a positive figure is worse than
the alert: paid more on a buy, got less on a sell. In basis points always, in ticks when the
plugin reported the market's price tick with the fill.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel

from plugins.orders import OrderAction, OrderSide, OrderType
from webhook.journal.period import FillRow

_EPSILON = 1e-12


@dataclass(slots=True)
class Fill:
    """One filled (or partly filled) signal, as the stats and the charts show it. A plain
    dataclass, which pydantic answers with like a model: a period can hold 20,000 fills, and
    building a pydantic model for each would cost more than the rest of the figures together."""

    signal_id: str
    time: float
    """When the fill was journaled (Unix seconds)."""
    source: str
    plugin: str
    symbol: str
    side: OrderSide | None
    """None for a `close` without a side when nothing was held in the period."""
    quantity: float
    price: float
    alert_price: float | None
    fee: float | None
    slippage_bps: float | None
    slippage_ticks: float | None
    alert_to_fill_ms: float
    realised_pnl: float
    """What this fill realised by closing earlier lots (FIFO), before fees."""


class OpenLots(BaseModel):
    """What the period's fills leave held on one plugin and symbol, at its FIFO cost."""

    plugin: str
    symbol: str
    quantity: float
    """Positive long, negative short."""
    average_price: float


@dataclass
class _Lot:
    sign: int
    quantity: float
    price: float


class FifoBook:
    """The open lots of each plugin and symbol; `trade` matches a fill against them."""

    def __init__(self) -> None:
        self._lots: dict[tuple[str, str], deque[_Lot]] = {}

    def held_sign(self, plugin: str, symbol: str) -> int:
        lots = self._lots.get((plugin, symbol))
        return lots[0].sign if lots else 0

    def trade(self, plugin: str, symbol: str, sign: int, quantity: float, price: float) -> float:
        """Book a fill (`sign` +1 buy, -1 sell) and return the P&L it realised."""
        lots = self._lots.setdefault((plugin, symbol), deque())
        realised, left = 0.0, quantity
        while left > _EPSILON and lots and lots[0].sign != sign:
            oldest = lots[0]
            matched = min(left, oldest.quantity)
            realised += (price - oldest.price) * matched * oldest.sign
            oldest.quantity -= matched
            left -= matched
            if oldest.quantity <= _EPSILON:
                lots.popleft()
        if left > _EPSILON:
            lots.append(_Lot(sign, left, price))
        return realised

    def open_lots(self) -> list[OpenLots]:
        held = []
        for (plugin, symbol), lots in sorted(self._lots.items()):
            quantity = sum(lot.quantity for lot in lots)
            if quantity > _EPSILON:
                cost = sum(lot.quantity * lot.price for lot in lots) / quantity
                held.append(OpenLots(plugin=plugin, symbol=symbol,
                                     quantity=quantity * lots[0].sign, average_price=cost))
        return held


def _side(row: FillRow, book: FifoBook, plugin: str, symbol: str) -> OrderSide | None:
    if row.side is not None:
        return OrderSide(row.side)
    if row.action == OrderAction.CLOSE.value:
        held = book.held_sign(plugin, symbol)
        return {1: OrderSide.SELL, -1: OrderSide.BUY}.get(held)
    return None


def _alert_price(row: FillRow) -> float | None:
    """As `Order.entry_price`: the stop for a stop order, else the limit or the alert's price."""
    return row.stop_price if row.order_type == OrderType.STOP.value else row.price


def _slippage(side: OrderSide, price: float, alert_price: float | None,
              tick: float | None) -> tuple[float | None, float | None]:
    if alert_price is None:
        return None, None
    worse = (price - alert_price) * (1 if side is OrderSide.BUY else -1)
    return worse / alert_price * 10_000, None if tick is None else worse / tick


def fills_of(rows: Iterable[FillRow], book: FifoBook) -> Iterator[Fill]:
    """The fills among the journal's `rows` (oldest first), each booked FIFO into `book`."""
    for row in rows:
        plugin, symbol = row.plugin, row.symbol
        price, quantity = row.average_price, row.filled_quantity
        if plugin is None or symbol is None or price is None or not quantity or quantity <= 0:
            continue
        side = _side(row, book, plugin, symbol)
        alert_price = _alert_price(row)
        realised, bps, ticks = 0.0, None, None
        if side is not None:
            sign = 1 if side is OrderSide.BUY else -1
            realised = book.trade(plugin, symbol, sign, quantity, price)
            bps, ticks = _slippage(side, price, alert_price, row.price_tick)
        yield Fill(
            row.id, row.updated_at, row.source, plugin, symbol, side, quantity, price,
            alert_price, row.fee, bps, ticks, max(row.updated_at - row.received_at, 0.0) * 1000,
            realised,
        )
