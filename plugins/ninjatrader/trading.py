"""Signals as NinjaTrader commands, and what NinjaTrader reports back.

An entry is `PLACE` with the order id `TH<signal id>`, so its state can be read back and a
signal sent twice is answered from the first one's order. Stop-loss and take-profit follow the
entry as an OCO pair (`<id>-SL`, `<id>-TP`) once it has filled, unless an ATM strategy template
is configured; an entry with managed exits has its stop-loss placed as the position's stop
(`plugins.ninjatrader.stops`), which the exits then move. A full close is `CLOSEPOSITION`; a
partial one is an opposite market order, after which the bracket's quantity and the position's
stop are changed to what is left. A reverse is `REVERSEPOSITION`, after cancelling both.
Cancel cancels the orders this plugin placed on the instrument and still working.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date

from plugins.errors import OrderRejected, OutcomeUnknown
from plugins.ninjatrader import ati
from plugins.ninjatrader.ati import Command, Link, OrderState, RunBlocking, order_id_for
from plugins.ninjatrader.brackets import Brackets, WorkingOrder, WorkingOrders
from plugins.ninjatrader.config import NinjaTraderConfig
from plugins.ninjatrader.instruments import instrument_for
from plugins.ninjatrader.reports import Reports, result_of
from plugins.ninjatrader.stops import PositionStops
from plugins.orders import (
    ExecutionResult,
    ExecutionStatus,
    Order,
    OrderAction,
    OrderSide,
    OrderType,
    TimeInForce,
)

_TYPES = {OrderType.MARKET: "MARKET", OrderType.LIMIT: "LIMIT", OrderType.STOP: "STOPMARKET",
          OrderType.STOP_LIMIT: "STOPLIMIT"}  # fmt: skip


class NinjaTraderTrader:
    def __init__(
        self,
        link: Link,
        config: NinjaTraderConfig,
        io: RunBlocking,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.link, self.config, self._io, self._today = link, config, io, today
        self.reports = Reports(link, config, io)
        self.working = WorkingOrders()
        self.brackets = Brackets(config, self.reports, self._send, self.working)
        self.stops = PositionStops(config, self.reports, self._send, link, io)
        self._closes: dict[str, ExecutionResult] = {}  # client order id -> a full close done
        self._closing: dict[str, tuple[str, int]] = {}  # ... -> (instrument, held) under way
        self._sent: set[str] = set()  # order ids this plugin handed to NinjaTrader

    def instrument(self, symbol: str) -> str:
        c = self.config
        return instrument_for(symbol, c.instruments, c.quarterly_roots, c.roll_days, self._today())

    async def execute(self, order: Order) -> ExecutionResult:
        instrument = self.instrument(order.symbol)
        cid = order.client_order_id or uuid.uuid4().hex
        what = order.describe(instrument)
        if order.action is OrderAction.CANCEL:
            return await self._cancel(order, instrument, order_id_for(cid))
        if order.action is OrderAction.CLOSE:
            return await self._close(order, instrument, cid, what)
        if order.action is OrderAction.REVERSE:
            return await self._reverse(order, instrument, cid, what)
        assert order.side is not None and order.quantity is not None  # noqa: S101 - Order checks
        return await self._open(order, instrument, order_id_for(cid), what, order.quantity)

    async def lookup(self, client_order_id: str) -> ExecutionResult | None:
        """What NinjaTrader reports for the signal's order. None only when it surely has none:
        its instruction was withdrawn unread (or never moved into `incoming`), or (dll) the
        client is connected and the id, which this process did not send, is not among the
        account's orders. Otherwise a missing report is waited for, then unknown."""
        oid = order_id_for(client_order_id)
        state = await self.reports.order_state(oid)
        if state is not None and not state.final:
            # a market order passes through Accepted: wait a while for where it ends
            state = await self.reports.until_reported(oid, f"order {oid}", oid)
        if state is None and client_order_id in self._closing:
            return await self._closed_since(client_order_id, oid)
        if state is None and await self._io(lambda: self.link.withdraw(oid)):
            return None
        if state is None:
            if oid not in self._sent and await self._io(lambda: self.link.surely_absent(oid)):
                return None
            state = await self._reported_late(oid)
        try:
            return result_of(state, oid, client_order_id, f"order {oid}")
        except OrderRejected as exc:
            return ExecutionResult.rejected(str(exc), client_order_id=client_order_id)

    async def _reported_late(self, oid: str) -> OrderState:
        """An order NinjaTrader took (this process or the one before a crash sent it) but has
        not reported: waited for, then unknown. The first report may be a market order's
        Accepted, so it is waited on to a final state like any other, and taken as it stands at
        the deadline. While NinjaTrader cannot be asked at all the lookup fails temporarily
        instead, so it is asked again."""
        try:
            return await self.reports.until_reported(oid, f"order {oid}", oid)
        except OutcomeUnknown:
            await self._io(lambda: self.link.surely_absent(oid))  # TemporaryError if it cannot
            raise

    async def _closed_since(self, client_order_id: str, oid: str) -> ExecutionResult | None:
        instrument, held = self._closing[client_order_id]
        if await self._position(instrument) == 0:
            return self._closed(client_order_id, held)
        if await self._io(lambda: self.link.withdraw(f"{oid}-close")):
            return None
        raise OutcomeUnknown(f"{instrument} is still not flat after closing it: check NinjaTrader")

    def _closed(self, client_order_id: str, held: int) -> ExecutionResult:
        result = ExecutionResult(success=True, status=ExecutionStatus.FILLED,
                                 client_order_id=client_order_id, filled_quantity=float(held))
        self._closes[client_order_id] = result
        self._closing.pop(client_order_id, None)
        return result

    async def close(self) -> None:
        await self.brackets.close()

    # --- entries and brackets ---------------------------------------------------------------

    async def _open(
        self, order: Order, instrument: str, oid: str, what: str, quantity: float,
        command: str = "PLACE", before: tuple[Command, ...] = (), opens: bool = True,
    ) -> ExecutionResult:  # fmt: skip
        """Place an order; `opens` False for one that reduces a position, which never starts
        an ATM strategy."""
        assert order.side is not None  # noqa: S101 - Order checks
        seen = await self.reports.order_state(oid)
        if seen is not None:
            return result_of(seen, oid, order.client_order_id, what)
        atm = (self.config.atm_strategy or "") if opens else ""
        kind = _TYPES[order.order_type]
        limited = order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        stopped = order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        limit = order.price if limited else None
        stop = order.stop_price if stopped else None
        entry = ati.place(
            self.config.account, instrument, _action(order.side), contracts(quantity, what), kind,
            self._time_in_force(order, what), limit=limit, stop=stop, order_id=oid,
            strategy=atm, strategy_id=oid if atm else "", command=command,
        )  # fmt: skip
        await self._send([*before, entry], oid)
        self._sent.add(oid)
        resting_ok = order.order_type is not OrderType.MARKET
        state = await self.reports.until_reported(oid, what, oid, resting_ok=resting_ok)
        result = result_of(state, oid, order.client_order_id, what)
        if not state.final:
            self.working.add(instrument, WorkingOrder(oid, entry.action, kind, limit, stop,
                                                      entry.quantity or 0))  # fmt: skip
        if atm or (order.stop_loss is None and order.take_profit is None):
            return result
        if order.exits is not None and state.final:  # its stop-loss is the position's stop
            problem = await self.stops.protect(instrument, order.side, order.stop_loss)
            return result.model_copy(update={"error": problem}) if problem else result
        if state.final:
            problem = await self.brackets.place(order, instrument, oid, state.filled)
            return result.model_copy(update={"error": problem}) if problem else result
        self.brackets.place_when_filled(order, instrument, oid)
        return result

    def _time_in_force(self, order: Order, what: str) -> str:
        tif = order.time_in_force
        if tif is None:
            return self.config.time_in_force
        if tif not in (TimeInForce.DAY, TimeInForce.GTC):
            raise OrderRejected(
                f"cannot {what}: NinjaTrader's ATI takes time in force day or gtc, not {tif.value}"
            )
        return tif.value.upper()

    # --- close, reverse, cancel -------------------------------------------------------------

    async def _close(self, order: Order, instrument: str, cid: str, what: str) -> ExecutionResult:
        known = await self.reports.known_position(instrument)
        if known is None:
            return await self._close_unreported(order, instrument, cid, what)
        held = known
        wanted = {None: held != 0, OrderSide.SELL: held > 0, OrderSide.BUY: held < 0}[order.side]
        if not wanted:
            if cid in self._closing and held == 0:
                return self._closed(cid, self._closing[cid][1])
            if cid in self._closes:
                return self._closes[cid]
            which = {None: "", OrderSide.SELL: "long ", OrderSide.BUY: "short "}[order.side]
            raise OrderRejected(f"no open {which}position in {instrument} to close")
        oid = order_id_for(cid)
        if order.quantity is not None and contracts(order.quantity, what) < abs(held):
            if self.config.atm_strategy:
                raise OrderRejected(
                    f"cannot {what}: under the ATM strategy {self.config.atm_strategy!r} a "
                    "partial close would leave its stop and target at full size; close the "
                    "whole position, or scale out in NinjaTrader"
                )
            side = OrderSide.SELL if held > 0 else OrderSide.BUY
            reducing = order.model_copy(update={"side": side, "order_type": OrderType.MARKET,
                                               "stop_loss": None, "take_profit": None})
            result = await self._open(reducing, instrument, oid, what, order.quantity,
                                      opens=False)  # fmt: skip
            await self.brackets.shrink(instrument, int(result.filled_quantity), oid)
            await self.stops.fit(instrument)
            return result
        self._closing[cid] = (instrument, abs(held))
        await self._send([ati.close_position(self.config.account, instrument)], f"{oid}-close")
        await self.reports.until_flat(instrument, what, f"{oid}-close")
        self.working.forget_all(instrument)  # CLOSEPOSITION cancels the instrument's orders
        return self._closed(cid, abs(held)).model_copy(
            update={"client_order_id": order.client_order_id}
        )

    async def _close_unreported(
        self, order: Order, instrument: str, cid: str, what: str
    ) -> ExecutionResult:
        """A close while NinjaTrader has not reported the position (it restarted since it
        last changed). A full close is `CLOSEPOSITION`, which flattens whatever is held; a
        partial one cannot be sized and is refused."""
        if cid in self._closes:
            return self._closes[cid]
        if order.quantity is not None:
            raise OrderRejected(
                f"cannot {what}: NinjaTrader has not reported the position in {instrument} "
                "since it restarted, so a partial close cannot be sized; close the whole "
                "position, or reduce it in NinjaTrader"
            )
        oid = order_id_for(cid)
        self._closing[cid] = (instrument, 0)
        await self._send([ati.close_position(self.config.account, instrument)], f"{oid}-close")
        await self.reports.until_flat(instrument, what, f"{oid}-close")
        self.working.forget_all(instrument)
        unsized = (f"{instrument} is flat; NinjaTrader had not reported the position before, so "
                   "how many contracts the close sold or bought is not known")  # fmt: skip
        return self._closed(cid, 0).model_copy(
            update={"client_order_id": order.client_order_id, "error": unsized}
        )

    async def _reverse(self, order: Order, instrument: str, cid: str, what: str) -> ExecutionResult:
        assert order.side is not None  # noqa: S101 - Order checks
        oid = order_id_for(cid)
        seen = await self.reports.order_state(oid)
        if seen is not None:
            return result_of(seen, oid, order.client_order_id, what)
        held = await self.reports.known_position(instrument)
        if held is None:
            raise OrderRejected(
                f"cannot {what}: NinjaTrader has not reported the position in {instrument} "
                "since it restarted (it writes it only when it changes), so a reverse could "
                "open instead of reversing; close first, then open"
            )
        sign = 1 if order.side is OrderSide.BUY else -1
        if held * sign > 0:
            raise OrderRejected(
                f"cannot reverse to {order.side} {instrument}: the position is already {held}"
            )
        quantity = order.quantity or abs(held)
        if not quantity:
            raise OrderRejected(f"no position in {instrument} to reverse and no quantity to open")
        if held == 0:
            return await self._open(order, instrument, oid, what, quantity)
        stale = [ati.cancel(w.order_id) for w in self.working.forget_all(instrument)]
        stale += self.stops.cancels(instrument)
        result = await self._open(order, instrument, oid, what, quantity, "REVERSEPOSITION",
                                  tuple(stale))
        return result.model_copy(update={"filled_quantity": result.filled_quantity + abs(held)})

    async def _cancel(self, order: Order, instrument: str, oid: str) -> ExecutionResult:
        side = _action(order.side) if order.side is not None else None
        live = []
        for working in self.working.of(instrument):
            if side is not None and working.action != side:
                continue
            state = await self.reports.order_state(working.order_id)
            if state is None or not state.final:
                live.append(working.order_id)
            else:
                self.working.forget(instrument, working.order_id)
        if not live:
            raise OrderRejected(f"no open orders on {instrument} placed by tradehook to cancel")
        await self._send([ati.cancel(w) for w in live], f"{oid}-cancel")
        for working_id in live:
            what = f"cancel order {working_id}"
            await self.reports.until_reported(working_id, what, f"{oid}-cancel")
            self.working.forget(instrument, working_id)
        return ExecutionResult(success=True, status=ExecutionStatus.CANCELLED,
                               order_id=",".join(live), client_order_id=order.client_order_id)

    # --- talking to NinjaTrader -------------------------------------------------------------

    async def _send(self, commands: Sequence[Command], tag: str) -> None:
        await self._io(lambda: self.link.send(commands, tag))

    async def _position(self, instrument: str) -> int:
        return await self.reports.position(instrument)


def contracts(quantity: float, what: str) -> int:
    whole = round(quantity)
    if whole < 1 or abs(whole - quantity) > 1e-9:
        raise OrderRejected(f"cannot {what}: NinjaTrader trades whole contracts, not {quantity:g}")
    return whole


def _action(side: OrderSide) -> str:
    return "BUY" if side is OrderSide.BUY else "SELL"
