"""Signals as MetaTrader 5 trade requests: open, close, reverse, cancel, and lookup.

Every request carries the plugin's magic number and a comment derived from the signal id
(`th:<id>` for the order that opens, `th:<id>:x` for the deals of a close, `th:<id>:r` for the
closing deals of a reverse), so a request whose answer was lost can be found again, and a signal
sent twice is answered from what the first one did (see `plugins.mt5.finder`). Results report
what was filled: less than was asked is `partially_filled`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from plugins.errors import OrderRejected, OutcomeUnknown, TemporaryError
from plugins.mt5 import retcodes
from plugins.mt5.finder import Doubt, unattributable
from plugins.mt5.records import PendingOrder, Position, SendResult, SymbolSpec
from plugins.mt5.requests import TradeRequests
from plugins.mt5.sending import OrderSender
from plugins.mt5.session import MT5Session
from plugins.mt5.symbols import (
    EXIT_SUFFIX,
    REVERSE_EXIT_SUFFIX,
    broker_symbol,
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


log = logging.getLogger(__name__)


@dataclass
class _Closed:
    volume: float = 0.0
    value: float = 0.0
    orders: tuple[str, ...] = ()
    asked: float = 0.0

    def add(self, sent: SendResult, asked: float) -> None:
        self.volume += sent.volume
        self.value += sent.volume * sent.price
        self.orders += (str(sent.order),)
        self.asked += asked

    @property
    def partial(self) -> bool:
        return self.volume < self.asked - 1e-9

    @property
    def price(self) -> float | None:
        return self.value / self.volume if self.volume else None


class MT5Trader:
    def __init__(self, session: MT5Session) -> None:
        self.session = session
        self.requests = TradeRequests(session)
        self.sender = OrderSender(session)

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
        found = self._earlier(comment_for(cid), what)
        if found is not None:
            return self._opened(found, order)
        return self._open(order, order.side, order.quantity, spec, comment_for(cid))

    def _earlier(self, comment: str, what: str) -> SendResult | None:
        """What an earlier attempt of this signal made, by its reply's tickets or its exact
        comment (a loose match could be another signal's: those wait for `lookup`)."""
        late = self.sender.late_reply(comment)
        if late is not None:
            return late
        if self.sender.in_flight(comment):
            raise OutcomeUnknown(f"cannot {what} yet: an earlier request for it is unanswered")
        found = self.sender.find(comment)
        if isinstance(found, Doubt):
            raise OutcomeUnknown(f"cannot {what} yet: {found.why}")
        return found

    def lookup(self, client_order_id: str, symbol: str | None = None) -> ExecutionResult | None:
        """What the terminal holds for this signal; None only when it certainly holds nothing.

        While a request of the signal is unanswered, TemporaryError (ask again later); where
        the broker's books cannot tell (shortened comments two signals share, comments the
        server rewrote), OutcomeUnknown.
        """
        comments = [comment_for(client_order_id, suffix)
                    for suffix in ("", REVERSE_EXIT_SUFFIX, EXIT_SUFFIX)]  # fmt: skip
        for comment in comments:
            self.sender.late_reply(comment)
            if self.sender.in_flight(comment):
                raise TemporaryError(
                    f"MetaTrader 5 has not answered the request of {client_order_id} yet"
                )
        name = None if symbol is None else broker_symbol(
            symbol, self.session.config.symbols, self.session.config.symbol_suffix
        )
        opened, closed, exits = (self._found(c, name) for c in comments)
        if opened is not None:
            result = self._opened(opened, None, client_order_id=client_order_id)
            if closed is None:
                return result
            return result.model_copy(
                update={"filled_quantity": result.filled_quantity + closed.volume}
            )
        if exits is not None:
            return _filled(exits.volume, exits.price, str(exits.order), client_order_id)
        doubt = unattributable(self.sender.books(), name)
        if doubt is not None:
            raise OutcomeUnknown(f"cannot tell whether {client_order_id} reached the broker: "
                                 f"{doubt.why}")  # fmt: skip
        return None  # a reverse that only closed is unfinished: sending it again completes it

    def _found(self, comment: str, symbol: str | None) -> SendResult | None:
        found = self.sender.find(comment, symbol=symbol, loose=True)
        if isinstance(found, Doubt):
            raise OutcomeUnknown(f"cannot tell which order is {comment!r}: {found.why}")
        return found

    # --- open -------------------------------------------------------------------------------

    def _open(
        self, order: Order, side: OrderSide, quantity: float, spec: SymbolSpec, comment: str
    ) -> ExecutionResult:
        what = f"{side} {quantity:g} {spec.name}"
        volume = round_volume(quantity, spec.volume_step, spec.volume_min, spec.volume_max, what)
        fields, fillings = self.requests.open(order, side, volume, spec, comment, what)
        return self._opened(self._send(fields, fillings, what), order, volume)

    def _send(self, fields: dict[str, Any], fillings: list[int], what: str) -> SendResult:
        """Send; on INVALID_FILL, once more with the next filling mode the symbol allows."""
        try:
            return self.sender.send(fields, what)
        except retcodes.InvalidFilling:
            if len(fillings) < 2:
                raise
            log.info("MetaTrader 5 refused the filling mode of %s; trying the next", what)
            return self.sender.send({**fields, "type_filling": fillings[1]}, what)

    def _opened(
        self,
        sent: SendResult,
        order: Order | None,
        volume: float | None = None,
        client_order_id: str | None = None,
    ) -> ExecutionResult:
        cid = order.client_order_id if order is not None else client_order_id
        pending = order is not None and order.order_type is not OrderType.MARKET
        if sent.retcode == retcodes.CANCEL:
            return ExecutionResult(success=True, status=ExecutionStatus.CANCELLED,
                                   order_id=str(sent.order), client_order_id=cid)  # fmt: skip
        if sent.retcode == retcodes.PLACED or (pending and not sent.deal):
            return ExecutionResult(
                success=True, status=ExecutionStatus.PLACED, order_id=str(sent.order),
                client_order_id=cid,
            )
        partial = sent.retcode == retcodes.DONE_PARTIAL or (
            volume is not None and sent.volume < volume - 1e-9
        )
        result = _filled(sent.volume, sent.price, str(sent.order), cid)
        if partial:
            return result.model_copy(update={"status": ExecutionStatus.PARTIALLY_FILLED})
        return result

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
            done = self._earlier(comment, f"close {spec.name}")
            if done is not None:
                return _filled(done.volume, done.price, str(done.order), order.client_order_id)
            which = {None: "", OrderSide.SELL: "long ", OrderSide.BUY: "short "}[order.side]
            raise OrderRejected(f"no open {which}position in {spec.name} to close")
        closed = self._close_positions(held, spec, comment, order.quantity)
        result = _filled(closed.volume, closed.price, ",".join(closed.orders),
                         order.client_order_id)  # fmt: skip
        if closed.partial:
            return result.model_copy(update={"status": ExecutionStatus.PARTIALLY_FILLED})
        return result

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
            fields, fillings = self.requests.close(position, volume, spec, comment, what)
            closed.add(self._send(fields, fillings, what), volume)
            if remaining is not None:
                remaining = round(remaining - volume, 10)
        return closed

    def _reverse(self, order: Order, spec: SymbolSpec, cid: str) -> ExecutionResult:
        assert order.side is not None  # noqa: S101 - Order checks
        s = self.session
        what = order.describe()
        done = self._earlier(comment_for(cid), what)
        if done is not None:
            earlier_exit = self._earlier(comment_for(cid, REVERSE_EXIT_SUFFIX), what)
            result = self._opened(done, order)
            extra = earlier_exit.volume if earlier_exit is not None else 0.0
            return result.model_copy(update={"filled_quantity": result.filled_quantity + extra})
        buying = order.side is OrderSide.BUY
        wanted = s.constant("POSITION_TYPE_BUY" if buying else "POSITION_TYPE_SELL")
        held = s.positions(spec.name)
        opposite = [p for p in held if p.type != wanted]
        if not opposite and any(p.type == wanted for p in held):
            raise OrderRejected(
                f"cannot reverse to {order.side} {spec.name}: the position is already {order.side}"
            )
        exit_comment = comment_for(cid, REVERSE_EXIT_SUFFIX)
        earlier = self._earlier(exit_comment, what)
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
            self.sender.send(fields, what)
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
