"""A position's protective stop on NinjaTrader 8: one STOPMARKET order held at the broker for
the position's quantity, on the opposite side, moved with `CHANGE`.

NinjaTrader's interfaces cannot list an instrument's orders, so the stop has an order id made
from the account, the instrument, the position's side and a generation: `TH<hash>-PS<n>`. The
working stop is found again (after a restart too) by reading the reports of generations 1, 2,
... in turn: one that rests is the stop, one that ended (filled, cancelled, rejected) is
skipped, and the first with no report is the id the next stop is placed under. An order id must
be unique (Commands and Valid Parameters, ORDER ID), so a PLACE sent twice for one generation,
as after a crash between sending and reading its report, is refused by NinjaTrader rather than
doubled.

The stop is put on the instrument's tick (`tick_sizes`), away from the market. Before anything
is sent it is checked against the market where the transport gives prices (the DLL's
`MarketData`): a long position's stop below the bid, a short one's above the ask. The file
interface gives no prices; there NinjaTrader's own refusal of a stop on the wrong side of the
market is read back from the report of a new stop. A refused `CHANGE` cannot be seen there (the
order state file carries no prices; what NinjaTrader 8 reports for one is unconfirmed). After
NinjaTrader restarts, `outgoing` is empty and generation 1 looks free again (unconfirmed whether
NinjaTrader still refuses an id used before it restarted).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from plugins.errors import ExecutionError, NotSupported, OrderRejected
from plugins.ninjatrader import ati
from plugins.ninjatrader.ati import Link, RunBlocking
from plugins.ninjatrader.brackets import Send
from plugins.ninjatrader.config import NinjaTraderConfig
from plugins.ninjatrader.reports import Reports
from plugins.orders import OrderSide, decimals_of

log = logging.getLogger(__name__)
MAX_GENERATIONS = 10_000
"""How many stops of one position side are looked through for the working one."""


def stop_order_id(account: str, instrument: str, side: OrderSide, generation: int) -> str:
    """The id of the `generation`th stop of the `side` position in `instrument`: the same in
    every process, so a restart finds the stop its predecessor placed."""
    digest = hashlib.blake2b(f"{account}|{instrument}|{side.value}".encode(), digest_size=8)
    return f"TH{digest.hexdigest().upper()}-PS{generation}"


def _fresh_tag(order_id: str, what: str) -> str:
    """A name of its own for each change sent, in the order sent: two moves in a row are two
    instruction files, the second never replacing the first before NinjaTrader has read it."""
    return f"{order_id}-{time.time_ns():020d}{what}"


@dataclass
class HeldStop:
    """The stop last seen working for one position side."""

    order_id: str
    generation: int
    stop: float | None = None
    """Its price, when this process placed or moved it (a stop found after a restart is moved
    once, to be sure of its price)."""
    quantity: int = 0


class PositionStops:
    def __init__(self, config: NinjaTraderConfig, reports: Reports, send: Send, link: Link,
                 io: RunBlocking) -> None:
        self.config, self.reports, self._send, self._link, self._io = (
            config, reports, send, link, io)
        self._held: dict[tuple[str, OrderSide], HeldStop] = {}

    async def move(self, instrument: str, side: OrderSide, stop_price: float) -> None:
        """Place the stop of the open `side` position, or move the working one to
        `stop_price` and the position's quantity."""
        long = side is OrderSide.BUY
        which = "long" if long else "short"
        held = await self.reports.position(instrument)
        if held == 0 or (held > 0) != long:
            raise OrderRejected(f"no open {which} position in {instrument} to hold a stop")
        stop_price = self._on_tick(instrument, long, stop_price)
        await self._check_market(instrument, long, stop_price)
        quantity = abs(held)
        working = await self._working(instrument, side)
        if working.stop == stop_price and working.quantity == quantity:
            return  # already there: a repeat sends nothing
        if await self._rests(working):
            await self._send([ati.change(working.order_id, quantity, stop=stop_price)],
                             _fresh_tag(working.order_id, "move"))
            working.stop, working.quantity = stop_price, quantity
            return
        await self._place(instrument, side, working, quantity, stop_price)

    async def protect(self, instrument: str, side: OrderSide | None,
                      stop: float | None) -> str | None:
        """The stop-loss of a filled entry with managed exits, as the position's stop; returns
        what went wrong when it could not be placed (the entry is not undone). A position that
        holds a stop already keeps it where it is: the exits of the entry that placed it move
        it, and tradehook holds the later entry's stop (`ExitManager._holds_stop`)."""
        if side is None or stop is None:
            return None
        try:
            if await self._rests(await self._working(instrument, side)):
                return None
            await self.move(instrument, side, stop)
        except ExecutionError as exc:
            log.error("position in %s left without its stop: %s", instrument, exc)
            return f"entry filled but its stop-loss failed: {exc}"
        return None

    async def fit(self, instrument: str) -> None:
        """After part of a position was closed, the working stop covers what is left (so a
        triggered stop never opens the other way); the stop of a side no longer held is
        cancelled."""
        held = await self.reports.known_position(instrument)
        if held is None:
            return  # not reported: the stop is left as it is
        for side in (OrderSide.BUY, OrderSide.SELL):
            working = await self._working(instrument, side)
            if not await self._rests(working):
                continue
            left = abs(held) if held and (held > 0) == (side is OrderSide.BUY) else 0
            if left == working.quantity:
                continue
            if left:
                command = ati.change(working.order_id, left)
                working.quantity = left
            else:
                command = ati.cancel(working.order_id)
                del self._held[(instrument, side)]
            await self._send([command], _fresh_tag(working.order_id, "fit"))

    def cancels(self, instrument: str) -> list[ati.Command]:
        """`CANCEL` for every stop this process holds on the instrument (a reverse sends them
        first: the old side's stop would close part of the new position)."""
        taken = [key for key in self._held if key[0] == instrument]
        return [ati.cancel(self._held.pop(key).order_id) for key in taken]

    def _on_tick(self, instrument: str, long: bool, stop: float) -> float:
        """The stop on the instrument's tick (`tick_sizes`), rounded away from the market (a
        trailing stop's percent rarely lands on one); as given for a root with no tick."""
        root = instrument.split(" ", 1)[0].upper()
        tick = {k.upper(): v for k, v in self.config.tick_sizes.items()}.get(root)
        if tick is None:
            return stop
        ticks = stop / tick
        whole = math.floor(ticks + 1e-9) if long else math.ceil(ticks - 1e-9)
        return round(whole * tick, decimals_of(tick))

    async def _check_market(self, instrument: str, long: bool, stop: float) -> None:
        try:
            bid, ask, _ = await self._io(lambda: self._link.quote(instrument))
        except NotSupported:
            return  # the file interface: NinjaTrader checks a new stop itself
        market, name = (bid, "bid") if long else (ask, "ask")
        if stop >= market if long else stop <= market:
            which, where = ("long", "below") if long else ("short", "above")
            raise OrderRejected(f"the stop {stop:g} of a {which} position in {instrument} must "
                                f"be {where} the {name} {market:g}")

    async def _rests(self, working: HeldStop) -> bool:
        state = await self.reports.order_state(working.order_id)
        return state is not None and state.resting

    async def _working(self, instrument: str, side: OrderSide) -> HeldStop:
        """The stop working for the side, or the generation to place the next one under."""
        key = (instrument, side)
        start = self._held[key].generation if key in self._held else 1
        for generation in range(start, MAX_GENERATIONS + 1):
            order_id = stop_order_id(self.config.account, instrument, side, generation)
            state = await self.reports.order_state(order_id)
            if state is not None and state.final:
                continue
            known = self._held.get(key)
            if known is None or known.order_id != order_id:
                known = self._held[key] = HeldStop(order_id, generation)
            return known
        raise OrderRejected(f"more than {MAX_GENERATIONS} stops of one position side in "
                            f"{instrument}: cannot name another")

    async def _place(self, instrument: str, side: OrderSide, working: HeldStop, quantity: int,
                     stop: float) -> None:
        action = "SELL" if side is OrderSide.BUY else "BUY"
        what = f"{action} {quantity} {instrument} STOPMARKET {stop:g} (order {working.order_id})"
        command = ati.place(self.config.account, instrument, action, quantity, "STOPMARKET",
                            "GTC", stop=stop, order_id=working.order_id)
        await self._send([command], working.order_id)
        state = await self.reports.until_reported(working.order_id, what, working.order_id,
                                                  resting_ok=True)
        if state.resting:
            working.stop, working.quantity = stop, quantity
            return
        del self._held[(instrument, side)]  # the next stop takes the next generation
        which, where = ("long", "below") if side is OrderSide.BUY else ("short", "above")
        if state.state == "REJECTED":
            raise OrderRejected(
                f"NinjaTrader rejected {what}; the likely cause: the stop of a {which} "
                f"position must be {where} the market (its Log tab says why)")
        log.warning("the stop %s ended %s at once", working.order_id, state.state.lower())
        raise OrderRejected(f"NinjaTrader reported {what} {state.state.lower()} at once")
