"""Protective triggers whose position is gone, cancelled before they act on the next one.

Where the exchange has no one-cancels-the-other order for contracts (all but OKX in the
guarantees table, and OKX too for a lone stop-loss or take-profit), a position's stop-loss and
take-profit are independent reduce-only triggers: when one fills and flattens the position, the
other stays open, and would close (part of) the next position on that market. So the plugin
cancels our protective triggers (client ids with a `PROTECTIVE_SUFFIXES` suffix, and the
position stops of managed exits, see `position_stops`) that cannot protect the position held
now: all of them when the market is flat, and those on the side that would add to the
position rather than reduce it. It looks:

- right before every entry on a contract market, so a new position never meets an old trigger;
- every `protection_check_interval` seconds on swap accounts, for every market where the
  exchange lists a trigger of ours, so that the sibling of a filled leg goes soon after;
- once at start: the exchange holds both the triggers and the positions, so a restart does it
  too without anything kept in memory.

The triggers are listed before the position is read: a trigger listed then was placed before
the read, so a position opened since (with its own fresh triggers) can only make the sweep keep
an old trigger longer, never cancel a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Iterable

from plugins.ccxt.position_stops import is_position_stop
from plugins.ccxt.results import CcxtOrder
from plugins.ccxt.symbols import Market
from plugins.ccxt.trader import ExchangeTrader, Position
from plugins.errors import ExecutionError

PROTECTIVE_SUFFIXES = ("sl", "tp", "oc")
"""The client id suffixes of the orders that protect an entry (see `brackets`)."""
_PROTECTIVE = re.compile(r"[0-9A-Za-z_-]{20,}(?:sl|tp|oc)")


def is_protective(trigger: CcxtOrder) -> bool:
    """One of our stop-loss / take-profit orders or position stops (`position_stops`):
    reduce-only, under a protective client id."""
    client_id = trigger.client_order_id or ""
    ours = _PROTECTIVE.fullmatch(client_id) is not None
    return (trigger.reduce_only is True and ours) or is_position_stop(trigger)


def orphaned(triggers: Iterable[CcxtOrder], positions: list[Position]) -> list[CcxtOrder]:
    """Our protective triggers that cannot reduce any of `positions`."""
    held = {position.side for position in positions if position.contracts > 0}
    return [
        trigger
        for trigger in triggers
        if is_protective(trigger)
        and not any(trigger.side == side.opposite.value for side in held)
    ]


async def cancel_orphans(trader: ExchangeTrader, market: Market) -> list[CcxtOrder]:
    """Cancel the market's orphaned protective triggers; returns them. Contracts only."""
    if not market.get("contract"):
        return []
    what = f"stale stop-loss and take-profit orders on {market['symbol']}"
    triggers = await trader.trigger_orders(market, what)  # first: see the module's docstring
    if not any(is_protective(trigger) for trigger in triggers):
        return []
    stale = orphaned(triggers, await trader.positions(market, what))
    await trader.cancel_triggers(stale, market, what)
    return stale


class ProtectionSweeper:
    """Looks for orphaned triggers on every market where the exchange lists one of ours."""

    def __init__(self, trader: ExchangeTrader, interval: float, log: logging.Logger) -> None:
        self._trader = trader
        self._interval = interval
        self._log = log
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> list[CcxtOrder]:
        """One pass over the markets; returns what it cancelled. Raises ExecutionError when
        the exchange could not be asked."""
        cancelled: list[CcxtOrder] = []
        for market in await self._markets_with_triggers():
            stale = await cancel_orphans(self._trader, market)
            for trigger in stale:
                self._log.warning(
                    "cancelled %s %s on %s (client order id %s): its position is closed",
                    trigger.side, trigger.id, market["symbol"], trigger.client_order_id,
                )  # fmt: skip
            cancelled.extend(stale)
        return cancelled

    async def sweep_at_start(self) -> None:
        """Cancel what a position closed while tradehook was down left behind; best effort."""
        try:
            await self.sweep()
        except ExecutionError as exc:
            self._log.warning("could not look for stale stop-loss orders at start: %s", exc)

    def start(self) -> None:
        if self._interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="ccxt-protection-sweep")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except ExecutionError as exc:
                self._log.warning("could not look for stale stop-loss orders: %s", exc)

    async def _markets_with_triggers(self) -> list[Market]:
        trader = self._trader
        markets = trader.exchange.markets
        symbols = {
            trigger.symbol
            for trigger in await trader.trigger_orders(None, "open trigger orders")
            if is_protective(trigger) and trigger.symbol is not None and trigger.symbol in markets
        }
        return [markets[symbol] for symbol in sorted(symbols) if markets[symbol].get("contract")]
