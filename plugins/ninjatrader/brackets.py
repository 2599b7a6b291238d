"""The orders this plugin keeps working at NinjaTrader, and the brackets that protect entries.

A filled entry gets its stop-loss (`STOPMARKET`) and take-profit (`LIMIT`) as exit orders for
the filled quantity in one OCO group, so NinjaTrader cancels one when the other fills. A resting
entry is watched while the plugin runs and bracketed when it fills. NinjaTrader's interface
cannot list an instrument's orders, so the plugin remembers the ones it placed that still work,
for cancel, reverse and partial closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from plugins.ninjatrader import ati
from plugins.ninjatrader.ati import Command
from plugins.ninjatrader.config import NinjaTraderConfig
from plugins.ninjatrader.reports import Reports
from plugins.orders import Order, OrderSide

log = logging.getLogger(__name__)
WATCH_INTERVAL = 0.25  # seconds between looks at a resting entry that waits for its bracket
Send = Callable[[Sequence[Command], str], Awaitable[None]]


@dataclass
class WorkingOrder:
    order_id: str
    action: str
    order_type: str
    limit: float | None = None
    stop: float | None = None
    quantity: int = 0

    @property
    def bracket_leg(self) -> bool:
        return self.order_id.endswith(("-SL", "-TP"))

    @property
    def entry_id(self) -> str:
        """The entry a bracket leg protects (`TH<id>` for `TH<id>-SL`)."""
        return self.order_id.rsplit("-", 1)[0] if self.bracket_leg else self.order_id


class WorkingOrders:
    """Per instrument, the orders placed by this plugin that were last seen working."""

    def __init__(self) -> None:
        self._by_instrument: dict[str, dict[str, WorkingOrder]] = {}

    def add(self, instrument: str, order: WorkingOrder) -> None:
        self._by_instrument.setdefault(instrument, {})[order.order_id] = order

    def of(self, instrument: str) -> list[WorkingOrder]:
        return list(self._by_instrument.get(instrument, {}).values())

    def forget(self, instrument: str, order_id: str) -> None:
        self._by_instrument.get(instrument, {}).pop(order_id, None)

    def forget_all(self, instrument: str) -> list[WorkingOrder]:
        return list(self._by_instrument.pop(instrument, {}).values())


class Brackets:
    def __init__(
        self, config: NinjaTraderConfig, reports: Reports, send: Send, working: WorkingOrders
    ) -> None:
        self.config, self.reports, self._send, self.working = config, reports, send, working
        self._watchers: set[asyncio.Task[None]] = set()

    async def place(self, order: Order, instrument: str, oid: str, filled: int) -> str | None:
        """Protect a filled entry; returns what went wrong when it is left unprotected."""
        if filled <= 0 or order.side is None:
            return None
        exit_action = "BUY" if order.side.opposite is OrderSide.BUY else "SELL"
        tif, account = self.config.time_in_force, self.config.account
        oco = f"{oid}-OCO" if order.stop_loss and order.take_profit else ""
        legs = []
        if order.stop_loss is not None:
            legs.append(ati.place(account, instrument, exit_action, filled, "STOPMARKET", tif,
                                  stop=order.stop_loss, oco_id=oco, order_id=f"{oid}-SL"))
        if order.take_profit is not None:
            legs.append(ati.place(account, instrument, exit_action, filled, "LIMIT", tif,
                                  limit=order.take_profit, oco_id=oco, order_id=f"{oid}-TP"))
        await self._send(legs, f"{oid}-bracket")
        problems = []
        for leg in legs:
            what = f"{leg.action} {filled} {instrument} {leg.order_type} (order {leg.order_id})"
            try:
                state = await self.reports.until_reported(
                    leg.order_id, what, f"{oid}-bracket", resting_ok=True
                )
            except Exception as exc:  # noqa: BLE001 - reported in the result, not raised
                problems.append(f"{what}: {exc}")
                continue
            if state.final and state.state != "FILLED":
                problems.append(f"{what} was {state.state.lower()}")
            elif not state.final:
                self.working.add(instrument, WorkingOrder(
                    leg.order_id, leg.action, leg.order_type, leg.limit_price, leg.stop_price,
                    filled,
                ))  # fmt: skip
        if problems:
            log.error("position in %s left unprotected: %s", instrument, "; ".join(problems))
            return "entry filled but its bracket failed: " + "; ".join(problems)
        return None

    def place_when_filled(self, order: Order, instrument: str, oid: str) -> None:
        task = asyncio.create_task(self._watch(order, instrument, oid))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, order: Order, instrument: str, oid: str) -> None:
        """Wait (as long as the plugin runs) for a resting entry to finish, then bracket it."""
        while True:
            state = await self.reports.order_state(oid)
            if state is not None and state.final:
                break
            await asyncio.sleep(max(self.config.poll_interval, WATCH_INTERVAL))
        self.working.forget(instrument, oid)
        await self.place(order, instrument, oid, state.filled)

    async def shrink(self, instrument: str, closed: int, tag: str) -> None:
        """After `closed` contracts were sold back, take them off the working brackets, each
        OCO pair by its own share: the newest entry's pair first, a pair that covers no more
        contracts is cancelled, and no pair ever covers more than its own entry did."""
        pairs: dict[str, list[WorkingOrder]] = {}
        for leg in self.working.of(instrument):
            if leg.bracket_leg:
                pairs.setdefault(leg.entry_id, []).append(leg)
        commands = []
        for legs in reversed(pairs.values()):
            if closed <= 0:
                break
            covered = max(leg.quantity for leg in legs)
            taken = min(covered, closed)
            closed -= taken
            for leg in legs:
                if covered - taken > 0:
                    commands.append(ati.change(leg.order_id, covered - taken))
                    leg.quantity = covered - taken
                else:
                    commands.append(ati.cancel(leg.order_id))
                    self.working.forget(instrument, leg.order_id)
        if commands:
            await self._send(commands, f"{tag}-change")

    async def close(self) -> None:
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
