"""Executing one claimed signal: attempts, retries, reconciliation, and the journal of each.

Temporary failures are retried with exponential backoff and jitter. When the outcome of a
send is unknown, the broker is asked for the order by its client order id (the signal id)
before anything is sent again; a plugin that cannot be asked leaves the signal `unknown` for a
person. Every attempt starts only while this executor still holds the signal's lease, so a
stalled executor whose signal passed to another cannot send it a second time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from plugins.errors import ExecutionError, OutcomeUnknown, TemporaryError
from plugins.orders import ExecutionResult, Order
from plugins.registry import PluginRegistry
from webhook.execute.breaker import BreakerState, CircuitBreakers
from webhook.execute.kill_switch import KillSwitch
from webhook.execute.settings import ExecutionSettings
from webhook.journal import SignalJournal, SignalRecord, SignalStatus
from webhook.observe.events import SignalEvent, SignalEvents

logger = logging.getLogger("tradehook.executor")


@dataclass(frozen=True)
class ExecutionJob:
    signal_id: str
    order: Order
    plugin: str
    resumed: bool = False
    """The signal was executing when its executor stopped: its order may be at the broker."""

    @classmethod
    def of(cls, record: SignalRecord) -> ExecutionJob:
        assert record.order is not None and record.plugin is not None  # noqa: S101 - queued rows have both
        return cls(
            signal_id=record.id,
            order=record.order,
            plugin=record.plugin,
            resumed=record.status is SignalStatus.EXECUTING,  # an attempt was in flight
        )


class AttemptRunner:
    def __init__(
        self,
        journal: SignalJournal,
        registry: PluginRegistry,
        settings: ExecutionSettings,
        breakers: CircuitBreakers,
        *,
        owner: str | None,
        events: SignalEvents | None = None,
        kill_switch: KillSwitch | None = None,
    ) -> None:
        self._journal = journal
        self._registry = registry
        self._settings = settings
        self._breakers = breakers
        self._owner = owner
        self._events = events
        self._kill_switch = kill_switch
        self._attempt_started: dict[tuple[str, int], float] = {}

    async def run(self, job: ExecutionJob) -> None:
        """Take the signal to a final status (or leave it pending if the journal fails)."""
        if job.plugin not in self._registry:
            number = await self._start_attempt(job)
            status = SignalStatus.UNKNOWN if job.resumed else SignalStatus.FAILED
            error = f"plugin {job.plugin!r} is no longer configured"
            await self._finish(job, number, "error", status, error=error)
            return
        if job.resumed and await self._reconciled(job, None):
            return
        settings = self._settings
        last_error = ""
        for attempt in range(1, settings.max_attempts + 1):
            await self._wait_for_breaker(job.plugin)
            if self._kill_switch is not None and self._kill_switch.engaged:
                number = await self._start_attempt(job)
                error = (f"not sent: the kill switch is {self._kill_switch.describe()}; "
                         "nothing reached the broker")
                await self._finish(job, number, "kill_switch", SignalStatus.REJECTED, error=error)
                return
            number = await self._start_attempt(job)
            try:
                result = await self._registry.execute_order(job.order, job.plugin)
            except TemporaryError as exc:
                self._breakers.failed(job.plugin)
                last_error = str(exc)
                await self._finish(job, number, "temporary", SignalStatus.QUEUED, error=last_error)
                if attempt < settings.max_attempts:
                    await asyncio.sleep(self._backoff(attempt, exc.retry_after))
                continue
            except OutcomeUnknown as exc:
                self._breakers.failed(job.plugin)
                if not await self._reconciled(job, number, error=str(exc)):
                    continue
                return
            except ExecutionError as exc:
                await self._finish(job, number, "error", SignalStatus.FAILED, error=str(exc))
                return
            except Exception as exc:  # noqa: BLE001 - a plugin bug must not stop the executor
                logger.exception("signal %s: plugin %s raised", job.signal_id, job.plugin)
                error = f"plugin {job.plugin!r} failed: {type(exc).__name__}: {exc}"
                await self._finish(job, number, "error", SignalStatus.FAILED, error=error)
                return
            self._breakers.succeeded(job.plugin)
            await self._finish(job, number, "result", SignalStatus.after(result), result=result)
            return
        error = f"gave up after {settings.max_attempts} attempts: {last_error}"
        number = await self._start_attempt(job)
        await self._finish(job, number, "gave_up", SignalStatus.FAILED, error=error)

    async def _wait_for_breaker(self, plugin: str) -> None:
        """While the plugin's breaker is open, wait until it lets an attempt through."""
        if self._breakers.state(plugin) is BreakerState.OPEN:
            await asyncio.sleep(self._breakers.seconds_until_half_open(plugin))

    async def _reconciled(
        self, job: ExecutionJob, number: int | None, error: str | None = None
    ) -> bool:
        """After an unknown outcome: True when the signal is settled (found at the broker, or
        marked unknown because the broker cannot be asked); False when it is safe to resend.

        While the broker cannot answer the lookup right now, the signal stays `executing` (so a
        restart asks again before sending) and the lookup is retried with backoff.
        """
        if number is None:
            number = await self._start_attempt(job)
        doubt = error or "execution was interrupted"
        declared = self._registry.capabilities(job.plugin)
        if not (declared.lookup_by_client_order_id and declared.client_order_ids):
            message = (
                f"{doubt}; plugin {job.plugin!r} cannot look up orders, so the broker may or may "
                "not hold this order: check it by hand"
            )
            await self._finish(job, number, "unknown", SignalStatus.UNKNOWN, error=message)
            return True
        lookup = 0
        while True:
            lookup += 1
            try:
                found = await self._registry.lookup_order(
                    job.signal_id, job.order.symbol, job.plugin
                )
            except TemporaryError as exc:
                self._breakers.failed(job.plugin)
                if lookup == self._settings.max_attempts:
                    message = (f"{doubt}; the broker could not be asked after {lookup} tries "
                               f"({exc}): check it by hand")
                    await self._finish(job, number, "unknown", SignalStatus.UNKNOWN, error=message)
                    return True
                message = f"{doubt}; the broker cannot be asked yet ({exc}), asking again"
                await self._finish(job, number, "lookup_failed", SignalStatus.EXECUTING,
                                   error=message)
                await asyncio.sleep(self._backoff(lookup, exc.retry_after))
                await self._wait_for_breaker(job.plugin)
                number = await self._start_attempt(job)
                continue
            except ExecutionError as exc:
                message = f"{doubt}; lookup failed: {exc}"
                await self._finish(job, number, "unknown", SignalStatus.UNKNOWN, error=message)
                return True
            if found is None:
                await self._finish(
                    job, number, "not_found", SignalStatus.QUEUED,
                    error=f"{doubt}; the broker has no such order, sending again",
                )
                return False
            self._breakers.succeeded(job.plugin)
            await self._finish(job, number, "reconciled", SignalStatus.after(found), result=found)
            return True

    async def _finish(
        self,
        job: ExecutionJob,
        number: int,
        outcome: str,
        status: SignalStatus,
        *,
        result: ExecutionResult | None = None,
        error: str | None = None,
    ) -> None:
        started = self._attempt_started.pop((job.signal_id, number), None)
        await self._journal.finish_attempt(
            job.signal_id, number, outcome=outcome, status=status, result=result, error=error
        )
        logger.info("signal %s: attempt %d %s -> %s", job.signal_id, number, outcome, status)
        if self._events is not None:
            self._events.publish(SignalEvent(
                kind="attempt", signal_id=job.signal_id, status=status, plugin=job.plugin,
                symbol=job.order.symbol, outcome=outcome, error=error,
                seconds=None if started is None else time.monotonic() - started,
            ))

    async def _start_attempt(self, job: ExecutionJob) -> int:
        number = await self._journal.start_attempt(job.signal_id, time.time(), owner=self._owner)
        self._attempt_started[(job.signal_id, number)] = time.monotonic()
        return number

    def _backoff(self, attempt: int, hint: float | None) -> float:
        base = self._settings.retry_base_delay * 2.0 ** (attempt - 1)
        delay = min(self._settings.retry_max_delay, max(base, hint or 0.0))
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
        return delay * jitter
