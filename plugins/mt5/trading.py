"""Signals as MetaTrader 5 trade requests: open, close, reverse, cancel, and lookup.

Every request carries the plugin's magic number and a comment derived from the signal id
(`th:<id>` for the order that opens, `th:<id>:x` for the deals of a close, `th:<id>:r` for the
closing deals of a reverse), so a request whose answer was lost can be found again, and a signal
sent twice is answered from what the first one did.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from plugins.errors import OrderRejected, OutcomeUnknown, TemporaryError
from plugins.mt5 import retcodes
from plugins.mt5.records import PendingOrder, Position, SendResult, SymbolSpec
from plugins.mt5.requests import TradeRequests
from plugins.mt5.session import MT5Session
from plugins.mt5.symbols import (
    EXIT_SUFFIX,
    REVERSE_EXIT_SUFFIX,
    comment_for,
    round_volume,
)
from plugins.orders import (
    ExecutionResult,
    ExecutionStatus,
    Order,
    OrderAction,
    OrderSide,
    OrderType,
)

_BUY_PENDING = ("ORDER_TYPE_BUY_LIMIT", "ORDER_TYPE_BUY_STOP", "ORDER_TYPE_BUY_STOP_LIMIT")


@dataclass
class _Closed:
    volume: float = 0.0
    value: float = 0.0
    orders: tuple[str, ...] = ()

    def add(self, sent: SendResult) -> None:
        self.volume += sent.volume
        self.value += sent.volume * sent.price
        self.orders += (str(sent.order),)

    @property
    def price(self) -> float | None:
        return self.value / self.volume if self.volume else None


class MT5Trader:
    def __init__(self, session: MT5Session) -> None:
        self.session = session
        self.requests = TradeRequests(session)

    def execute(self, order: Order) -> ExecutionResult:
        what = order.describe()
        spec = self.session.symbol(order.symbol, what)
        cid = order.client_order_id or uuid.uuid4().hex
        if order.action is OrderAction.CANCEL:
            return self._cancel(order, spec)
        if order.action is OrderAction.CLOSE:
            return self._close(order, spec, cid)
        if order.action is OrderAction.REVERSE:
            return self._reverse(order, spec, cid)
        assert order.side is not None and order.quantity is not None  # noqa: S101 - Order checks
        found = self.session.find(comment_for(cid))
        if found is not None:
            return self._opened(found, order)
        return self._open(order, order.side, order.quantity, spec, comment_for(cid))

    def lookup(self, client_order_id: str) -> ExecutionResult | None:
        found = self.session.find(comment_for(client_order_id))
        if found is not None:
            closed = self.session.find(comment_for(client_order_id, REVERSE_EXIT_SUFFIX))
            result = self._opened(found, None, client_order_id)
            if closed is None:
                return result
            return result.model_copy(
                update={"filled_quantity": result.filled_quantity + closed.volume}
            )
        exits = self.session.find(comment_for(client_order_id, EXIT_SUFFIX))
        if exits is not None:
            return _filled(exits.volume, exits.price, str(exits.order), client_order_id)
        return None  # a reverse that only closed is unfinished: sending it again completes it

    # --- open -------------------------------------------------------------------------------

    def _open(
        self, order: Order, side: OrderSide, quantity: float, spec: SymbolSpec, comment: str
    ) -> ExecutionResult:
        what = f"{side} {quantity:g} {spec.name}"
        volume = round_volume(quantity, spec.volume_step, spec.volume_min, spec.volume_max, what)
        fields = self.requests.open(order, side, volume, spec, comment, what)
        return self._opened(self.session.send(fields, what), order)

    def _opened(
        self, sent: SendResult, order: Order | None, client_order_id: str | None = None
    ) -> ExecutionResult:
        pending = order is not None and order.order_type is not OrderType.MARKET
        if sent.retcode == retcodes.PLACED or (pending and not sent.deal):
            status = ExecutionStatus.PLACED
        elif sent.retcode == retcodes.DONE_PARTIAL:
            status = ExecutionStatus.PARTIALLY_FILLED
        else:
            status = ExecutionStatus.FILLED
        cid = order.client_order_id if order is not None else client_order_id
        if status is ExecutionStatus.PLACED:
            return ExecutionResult(
                success=True, status=status, order_id=str(sent.order), client_order_id=cid
            )
        result = _filled(sent.volume, sent.price, str(sent.order), cid)
        return result.model_copy(update={"status": status})

    # --- close and reverse ------------------------------------------------------------------

    def _close(self, order: Order, spec: SymbolSpec, cid: str) -> ExecutionResult:
        s = self.session
        long_type = s.constant("POSITION_TYPE_BUY")
        held = s.positions(spec.name)
        if order.side is OrderSide.SELL:
            held = [p for p in held if p.type == long_type]
        elif order.side is OrderSide.BUY:
            held = [p for p in held if p.type != long_type]
        comment = comment_for(cid, EXIT_SUFFIX)
        if not held:
            done = s.find(comment)
            if done is not None:
                return _filled(done.volume, done.price, str(done.order), order.client_order_id)
            which = {None: "", OrderSide.SELL: "long ", OrderSide.BUY: "short "}[order.side]
            raise OrderRejected(f"no open {which}position in {spec.name} to close")
        closed = self._close_positions(held, spec, comment, order.quantity)
        return _filled(closed.volume, closed.price, ",".join(closed.orders), order.client_order_id)

    def _close_positions(
        self, held: list[Position], spec: SymbolSpec, comment: str, limit: float | None
    ) -> _Closed:
        s = self.session
        long_type = s.constant("POSITION_TYPE_BUY")
        remaining = None
        if limit is not None:
            remaining = round_volume(
                limit, spec.volume_step, spec.volume_min, 0, f"close {limit:g} {spec.name}"
            )
        closed = _Closed()
        for position in held:
            if remaining is not None and remaining <= 1e-12:
                break
            volume = position.volume if remaining is None else min(position.volume, remaining)
            selling = position.type == long_type
            what = (
                f"{'sell' if selling else 'buy'} {volume:g} {spec.name} to close position "
                f"{position.ticket}"
            )
            fields = self.requests.close(position, volume, spec, comment, what)
            closed.add(s.send(fields, what))
            if remaining is not None:
                remaining = round(remaining - volume, 10)
        return closed

    def _reverse(self, order: Order, spec: SymbolSpec, cid: str) -> ExecutionResult:
        assert order.side is not None  # noqa: S101 - Order checks
        s = self.session
        done = self.lookup(cid)
        if done is not None:
            return done.model_copy(update={"client_order_id": order.client_order_id})
        buying = order.side is OrderSide.BUY
        wanted = s.constant("POSITION_TYPE_BUY" if buying else "POSITION_TYPE_SELL")
        held = s.positions(spec.name)
        opposite = [p for p in held if p.type != wanted]
        if not opposite and any(p.type == wanted for p in held):
            raise OrderRejected(
                f"cannot reverse to {order.side} {spec.name}: the position is already {order.side}"
            )
        exit_comment = comment_for(cid, REVERSE_EXIT_SUFFIX)
        earlier = s.find(exit_comment)
        closed = self._close_positions(opposite, spec, exit_comment, None)
        closed_volume = closed.volume + (earlier.volume if earlier is not None else 0.0)
        quantity = order.quantity or closed_volume
        if not quantity:
            raise OrderRejected(f"no position in {spec.name} to reverse and no quantity to open")
        opened = self._open(order, order.side, quantity, spec, comment_for(cid))
        return opened.model_copy(
            update={"filled_quantity": opened.filled_quantity + closed_volume}
        )

    # --- cancel -----------------------------------------------------------------------------

    def _cancel(self, order: Order, spec: SymbolSpec) -> ExecutionResult:
        s = self.session
        pending = s.pending_orders(spec.name)
        if order.side is not None:
            buy_types = {s.constant(name) for name in _BUY_PENDING}
            buying = order.side is OrderSide.BUY
            pending = [o for o in pending if (o.type in buy_types) is buying]
        if not pending:
            raise OrderRejected(f"no open orders on {spec.name} to cancel")
        for resting in pending:
            self._remove(resting, spec)
        return ExecutionResult(
            success=True,
            status=ExecutionStatus.CANCELLED,
            order_id=",".join(str(o.ticket) for o in pending),
            client_order_id=order.client_order_id,
        )

    def _remove(self, resting: PendingOrder, spec: SymbolSpec) -> None:
        s = self.session
        fields = self.requests.remove(resting.ticket)
        what = f"cancel order {resting.ticket} on {spec.name}"
        try:
            s.send(fields, what)
        except OutcomeUnknown as exc:
            if any(o.ticket == resting.ticket for o in s.pending_orders(spec.name)):
                raise TemporaryError(f"no answer to {what}; the order is still open") from exc


def _filled(
    volume: float, price: float | None, order_id: str, client_order_id: str | None
) -> ExecutionResult:
    return ExecutionResult(
        success=True,
        status=ExecutionStatus.FILLED,
        order_id=order_id,
        client_order_id=client_order_id,
        filled_quantity=volume,
        average_price=price or None,
    )
