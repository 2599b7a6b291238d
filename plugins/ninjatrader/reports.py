"""Waiting for what NinjaTrader reports, and reading it as execution results.

NinjaTrader answers nothing when it takes a command: the plugin polls the order's state (or
the position) until it is final, or resting when that is all an order will do, or the time is
up. Then an instruction NinjaTrader never picked up is withdrawn, so nothing was placed and a
retry is safe (`TemporaryError`); one that it did pick up but never reported may exist
(`OutcomeUnknown`), and is never reported as a success.
"""

from __future__ import annotations

import asyncio
from typing import Any

from plugins.errors import OrderRejected, OutcomeUnknown, TemporaryError
from plugins.ninjatrader.ati import Link, OrderState, PositionNotReported, RunBlocking
from plugins.ninjatrader.config import NinjaTraderConfig
from plugins.orders import ExecutionResult, ExecutionStatus


class Reports:
    def __init__(self, link: Link, config: NinjaTraderConfig, io: RunBlocking) -> None:
        self.link, self.config, self._io = link, config, io

    async def order_state(self, order_id: str) -> OrderState | None:
        return await self._io(lambda: self.link.order_state(order_id))

    async def position(self, instrument: str) -> int:
        return await self._io(lambda: self.link.position(instrument, self.config.account))

    async def until_reported(
        self, order_id: str, what: str, tag: str, resting_ok: bool = False
    ) -> OrderState:
        """The order's state once final (or resting, when that is enough). At the deadline, an
        order that was reported at all is returned as it stands."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.fill_timeout
        last = None
        while True:
            state = await self.order_state(order_id)
            last = state or last
            if state is not None and (state.final or resting_ok and state.resting):
                return state
            if loop.time() >= deadline:
                break
            await asyncio.sleep(self.config.poll_interval)
        if last is not None:
            return last
        raise await self.unanswered(f"NinjaTrader did not report order {order_id} ({what})", tag)

    async def known_position(self, instrument: str) -> int | None:
        """The position, or None while NinjaTrader has not reported it since it started (a
        position it cannot be asked for now raises TemporaryError)."""
        try:
            return await self.position(instrument)
        except PositionNotReported:
            return None

    async def until_flat(self, instrument: str, what: str, tag: str) -> None:
        """Until NinjaTrader reports the instrument flat; a position it has not reported is
        waited for like one that is not flat yet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.fill_timeout
        while await self.known_position(instrument) != 0:
            if loop.time() >= deadline:
                raise await self.unanswered(f"{instrument} is not flat after {what}", tag)
            await asyncio.sleep(self.config.poll_interval)

    async def unanswered(self, problem: str, tag: str) -> Exception:
        timeout = f"{self.config.fill_timeout:g} s"
        if await self._io(lambda: self.link.withdraw(tag)):
            return TemporaryError(
                f"{problem} within {timeout}: NinjaTrader never picked up the instruction, "
                "so it was withdrawn and nothing was placed. Is NinjaTrader running with the "
                "AT interface enabled?"
            )
        return OutcomeUnknown(
            f"{problem} within {timeout}; it may still happen: check NinjaTrader before sending "
            "this signal again"
        )


def result_of(state: OrderState, order_id: str, cid: str | None, what: str) -> ExecutionResult:
    if state.state == "REJECTED":
        raise OrderRejected(f"NinjaTrader rejected {what} (order {order_id}); its Log tab says why")
    fields: dict[str, Any] = {"success": True, "order_id": order_id, "client_order_id": cid}
    if state.filled:
        fields.update(filled_quantity=float(state.filled), average_price=state.average_price)
    if state.state == "FILLED":
        return ExecutionResult(status=ExecutionStatus.FILLED, **fields)
    if state.filled:
        return ExecutionResult(status=ExecutionStatus.PARTIALLY_FILLED, **fields)
    if state.state == "CANCELLED":
        fields.update(success=False, error=f"NinjaTrader cancelled {what} (order {order_id})")
        return ExecutionResult(status=ExecutionStatus.CANCELLED, **fields)
    return ExecutionResult(status=ExecutionStatus.PLACED, **fields)
