"""Executing one claimed signal: attempts, retries, reconciliation, and the journal of each.

Temporary failures are retried with capped exponential backoff and jitter for the signal's
retry budget, in seconds (`webhook.execute.deadlines`); while the plugin's circuit breaker is
open the signal waits without spending it, and it ends `failed` only once the budget is spent.
Right before each send, a signal older than its max lag ends `expired`, unsent. When the
outcome of a send is unknown, the broker is asked for the order by its client order id (the
signal id) before anything is sent again; a plugin that cannot be asked leaves the signal
`unknown` for a person. Every attempt starts only while this executor still holds the signal's
lease, so a stalled executor whose signal passed to another cannot send it a second time.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from plugins.errors import ExecutionError, OutcomeUnknown, TemporaryError
from plugins.orders import ExecutionResult, Order
from plugins.registry import PluginRegistry
from webhook.execute.breaker import BreakerState, CircuitBreakers
from webhook.execute.deadlines import DeliveryLimits, RetryBudget
from webhook.execute.kill_switch import KillSwitch
from webhook.execute.settings import ExecutionSettings
from webhook.execute.targets import send_order
from webhook.journal import (
    HandedJob,
    HandedOn,
    Lease,
    NewSignal,
    SignalJournal,
    SignalRecord,
    SignalStatus,
)
from webhook.journal.records import PENDING
from webhook.observe.events import SignalEvent, SignalEvents

logger = logging.getLogger("tradehook.executor")
PROBE_WAIT = 0.05
"""Seconds between looks at a half-open breaker whose probe another signal is sending."""
STALE_WAIT = 1.0
"""Longest wait on a breaker between two looks at the signal's age."""


@dataclass(frozen=True)
class ExecutionJob:
    signal_id: str
    order: Order
    plugin: str
    resumed: bool = False
    """The signal was executing when its executor stopped: its order may be at the broker."""
    source: str | None = None
    received_at: float | None = None
    approved_at: float | None = None
    """When a person approved it (approval queue): its max lag counts from then."""
    leased: bool = False
    """This executor holds the signal's lease already (taken as it was stored, or handed on by
    the journal when its lane's previous signal ended): it runs without a claim."""
    attempt: int | None = None
    """The attempt the journal opened for it with its lease (`Lease.starting`): its first send
    goes out under that one, with no journal write of its own."""

    @classmethod
    def handed(cls, handed: HandedJob) -> ExecutionJob:
        """The job of a signal handed on behind its lane's next one, leased and its attempt
        opened, from what the journal returned with it (nothing is read back)."""
        return cls(
            signal_id=handed.signal_id, order=Order.model_validate_json(handed.order_json),
            plugin=handed.plugin, source=handed.source, received_at=handed.received_at,
            approved_at=handed.approved_at, leased=True, attempt=handed.attempt,
        )

    @classmethod
    def of(
        cls, record: NewSignal, *, leased: bool = False, attempt: int | None = None
    ) -> ExecutionJob:
        """The job of a stored signal (as claimed, or as it was just stored)."""
        assert record.order is not None and record.plugin is not None  # noqa: S101 - queued rows have both
        return cls(
            signal_id=record.id,
            order=record.order,
            plugin=record.plugin,
            resumed=record.status is SignalStatus.EXECUTING,  # an attempt was in flight
            source=record.source,
            received_at=record.received_at,
            approved_at=record.approved_at if isinstance(record, SignalRecord) else None,
            leased=leased,
            attempt=attempt,
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
        limits: DeliveryLimits | None = None,
        starts_next: Callable[[str, str], str | None] | None = None,
        opens_ahead: Callable[[str], bool] | None = None,
        settled: Callable[[ExecutionJob], bool] | None = None,
        handed_on: Callable[[ExecutionJob, HandedOn], None] | None = None,
    ) -> None:
        self._journal = journal
        self._registry = registry
        self._settings = settings
        self._breakers = breakers
        self._owner = owner
        self._events = events
        self._kill_switch = kill_switch
        self._limits = limits or DeliveryLimits(settings)
        self._attempt_started: dict[tuple[str, int], float] = {}
        self.hand_on = Lease(owner, settings.lease_seconds) if owner else None
        """Whom a final status asks the journal to lease its lane's next signal to; None
        while stopping."""
        self._starts_next = starts_next
        """(plugin, symbol) -> the signal the executor would run next in that lane from memory
        and may start now, whose attempt the hand-on then opens (`Lease.starting`)."""
        self._opens_ahead = opens_ahead
        """Whether a hand-on of `plugin`'s lane may open the attempts of the signals after the
        one starting too (`Lease.ahead`): they wait in the executor's lane, as receipts do."""
        self._settled = settled
        """Told that a job's final status is decided, before that status is committed: True
        when its lane's next job was started from memory then (no hand-on is needed)."""
        self._handed_on = handed_on
        """Told of the lane's next signal the journal handed on with a job's final status, as
        the write returns: before any other task runs, so that a newer receipt of the lane,
        committed in the same transaction, finds the lane taken by the one handed on."""
        self._handed: dict[str, HandedOn] = {}
        self.unsent: dict[str, int] = {}
        """Signal -> the attempt opened ahead of its send (`ExecutionJob.attempt`), until the
        send begins: what to withdraw when the executor stops first."""

    async def run(self, job: ExecutionJob) -> HandedOn | None:
        """Take the signal to a final status (or leave it pending if the journal fails).

        Returns its lane's next signal when the journal leased that one to this executor along
        with the final status: the caller runs it without a claim.
        """
        if job.attempt is not None:
            self.unsent[job.signal_id] = job.attempt
        try:
            await self._settle(job)
        finally:
            handed = self._handed.pop(job.signal_id, None)
        return handed

    async def _settle(self, job: ExecutionJob) -> None:
        if job.plugin not in self._registry:
            number = await self._start_attempt(job)
            status = SignalStatus.UNKNOWN if job.resumed else SignalStatus.FAILED
            error = f"plugin {job.plugin!r} is no longer configured"
            await self._finish(job, number, "error", status, error=error)
            return
        budget = RetryBudget(self._limits.retry_budget(job.plugin))
        if job.resumed and await self._reconciled(job, None, budget):
            return
        last_error = ""
        while True:
            probe = await self._wait_for_breaker(job, budget)
            try:
                settled, failure = await self._attempt(job, budget, probe)
            finally:
                if probe:
                    self._breakers.probe_ended(job.plugin)
            if settled:
                return
            if failure is not None:
                last_error = str(failure)
            if budget.exhausted:
                break
            await self._back_off(job, budget, failure)
        error = (f"gave up after {budget.spent:.1f} s of temporary failures (retry budget "
                 f"{budget.seconds:g} s, {budget.failures} attempts): {last_error}")
        number = await self._start_attempt(job)
        await self._finish(job, number, "gave_up", SignalStatus.FAILED, error=error)

    async def _attempt(
        self, job: ExecutionJob, budget: RetryBudget, probe: bool
    ) -> tuple[bool, ExecutionError | None]:
        """One send (unless the kill switch or the signal's age forbids it): whether the
        signal is settled, and the temporary failure met if any."""
        if self._kill_switch is not None and self._kill_switch.engaged:
            number = await self._start_attempt(job)
            error = (f"not sent: the kill switch is {self._kill_switch.describe()}; "
                     "nothing reached the broker")
            await self._finish(job, number, "kill_switch", SignalStatus.REJECTED, error=error)
            return True, None
        too_old = self._too_old(job)
        if too_old is not None:
            number = await self._start_attempt(job)
            await self._finish(job, number, "expired", SignalStatus.EXPIRED, error=too_old)
            return True, None
        number = await self._start_attempt(job)
        started = time.monotonic()
        try:
            result = await send_order(self._registry, job.order, job.plugin)
        except TemporaryError as exc:
            self._breakers.failed(job.plugin)
            budget.failed(charge_from=None if probe else started)
            await self._finish(job, number, "temporary", SignalStatus.QUEUED, error=str(exc))
            return False, exc
        except OutcomeUnknown as exc:
            self._breakers.failed(job.plugin)
            budget.failed(charge_from=None if probe else started)
            return await self._reconciled(job, number, budget, error=str(exc)), exc
        except ExecutionError as exc:
            self._breakers.succeeded(job.plugin)  # the broker answered: it is up
            await self._finish(job, number, "error", SignalStatus.FAILED, error=str(exc))
            return True, None
        except Exception as exc:  # noqa: BLE001 - a plugin bug must not stop the executor
            logger.exception("signal %s: plugin %s raised", job.signal_id, job.plugin)
            error = f"plugin {job.plugin!r} failed: {type(exc).__name__}: {exc}"
            await self._finish(job, number, "error", SignalStatus.FAILED, error=error)
            return True, None
        self._breakers.succeeded(job.plugin)
        await self._finish(job, number, "result", SignalStatus.after(result), result=result)
        return True, None

    def _too_old(self, job: ExecutionJob) -> str | None:
        return self._limits.too_old(
            job.order, plugin=job.plugin, source=job.source, received_at=job.received_at,
            approved_at=job.approved_at,
            now=time.time(),
        )

    async def _back_off(
        self, job: ExecutionJob, budget: RetryBudget, failure: ExecutionError | None
    ) -> None:
        """Pause before the next try, within the budget; none when the breaker just opened
        (the wait for it is free)."""
        if self._breakers.state(job.plugin) is BreakerState.CLOSED:
            hint = failure.retry_after if isinstance(failure, TemporaryError) else None
            await asyncio.sleep(min(budget.left, self._backoff(budget.failures, hint)))

    async def _wait_for_breaker(
        self, job: ExecutionJob, budget: RetryBudget, *, sending: bool = True
    ) -> bool:
        """While the plugin's breaker holds signals back, wait without spending the budget
        (looking at the signal's age now and then, so that one past its max lag ends then, not
        when the broker is back). True when this signal's next request is the half-open probe.
        """
        plugin = job.plugin
        while True:
            state = self._breakers.state(plugin)
            if state is BreakerState.CLOSED:
                budget.resume()
                return False
            if state is BreakerState.HALF_OPEN and self._breakers.take_probe(plugin):
                return True  # the probe is the breaker's: the budget stays paused for it
            if sending and self._too_old(job) is not None:
                return False  # the caller ends it `expired` before any send
            budget.pause()
            wait = (self._breakers.seconds_until_half_open(plugin)
                    if state is BreakerState.OPEN else PROBE_WAIT)
            await asyncio.sleep(min(STALE_WAIT, max(wait, PROBE_WAIT)))

    async def _reconciled(
        self, job: ExecutionJob, number: int | None, budget: RetryBudget,
        error: str | None = None,
    ) -> bool:
        """After an unknown outcome: True when the signal is settled (found at the broker, or
        marked unknown because the broker cannot be asked); False when it is safe to resend.

        While the broker cannot answer the lookup right now, the signal stays `executing` (so a
        restart asks again before sending) and the lookup is retried with backoff, within the
        signal's retry budget.
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
            # A lookup sends nothing: its signal may be at the broker, so it never expires.
            probe = await self._wait_for_breaker(job, budget, sending=False)
            started = time.monotonic()
            try:
                found = await self._ask(job, probe)
            except TemporaryError as exc:
                self._breakers.failed(job.plugin)
                budget.failed(charge_from=None if probe else started)
                if budget.exhausted:
                    message = (f"{doubt}; the broker could not be asked for {budget.spent:.1f} s "
                               f"({lookup} tries, last: {exc}): check it by hand")
                    await self._finish(job, number, "unknown", SignalStatus.UNKNOWN, error=message)
                    return True
                message = f"{doubt}; the broker cannot be asked yet ({exc}), asking again"
                await self._finish(job, number, "lookup_failed", SignalStatus.EXECUTING,
                                   error=message)
                await self._back_off(job, budget, exc)
                number = await self._start_attempt(job)
                continue
            except ExecutionError as exc:
                message = f"{doubt}; lookup failed: {exc}"
                await self._finish(job, number, "unknown", SignalStatus.UNKNOWN, error=message)
                return True
            except Exception as exc:  # noqa: BLE001 - a plugin bug must not loop the signal
                logger.exception("signal %s: plugin %s lookup raised", job.signal_id, job.plugin)
                message = (f"{doubt}; the lookup failed (plugin {job.plugin!r}: "
                           f"{type(exc).__name__}: {exc}): check it by hand")
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

    async def _ask(self, job: ExecutionJob, probe: bool) -> ExecutionResult | None:
        try:
            return await self._registry.lookup_order(
                job.signal_id, job.order.symbol, job.plugin, order=job.order
            )
        finally:
            if probe:
                self._breakers.probe_ended(job.plugin)

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
        final = status not in PENDING
        # Settled at the broker: the lane's next job may be sent now. Its task first runs once
        # this one waits below, by when this write is queued ahead of any write of the next.
        continued = final and self._settled is not None and self._settled(job)
        # A lane whose plugin is held back by its breaker hands nothing on: its signals wait
        # in the journal, not in running tasks.
        hand_on = (self.hand_on if final and not continued
                   and self._breakers.state(job.plugin) is BreakerState.CLOSED else None)
        if hand_on is not None and self._starts_next is not None:
            starting = self._starts_next(job.plugin, job.order.symbol)
            if starting is not None:
                ahead = self._opens_ahead is not None and self._opens_ahead(job.plugin)
                hand_on = Lease(hand_on.owner, hand_on.seconds, starting=starting, ahead=ahead)
        handed = await self._journal.finish_attempt(
            job.signal_id, number, outcome=outcome, status=status, result=result, error=error,
            hand_on=hand_on,
        )
        if handed is not None:
            self._handed[job.signal_id] = handed
            if handed.attempt is not None:  # ours from now on: no claim may take it resumed
                self.unsent[handed.signal_id] = handed.attempt
            if self._handed_on is not None:
                self._handed_on(job, handed)
        logger.info("signal %s: attempt %d %s -> %s", job.signal_id, number, outcome, status)
        if self._events is not None:
            self._events.publish(SignalEvent(
                kind="attempt", signal_id=job.signal_id, status=status, plugin=job.plugin,
                symbol=job.order.symbol, outcome=outcome, error=error,
                seconds=None if started is None else time.monotonic() - started,
                exits=job.order.exits is not None,
            ))

    async def _start_attempt(self, job: ExecutionJob) -> int:
        """The attempt opened ahead for the job if there is one (its caller sends next, with
        no await in between), else one opened now, before the send."""
        number = self.unsent.pop(job.signal_id, None)
        if number is None:
            number = await self._journal.start_attempt(
                job.signal_id, time.time(), owner=self._owner)
        self._attempt_started[(job.signal_id, number)] = time.monotonic()
        return number

    def _backoff(self, attempt: int, hint: float | None) -> float:
        """Capped exponential backoff with jitter; a broker that says when to come back
        (Retry-After) is believed over the cap (the caller keeps every wait inside the budget)."""
        base = min(self._settings.retry_max_delay,
                   self._settings.retry_base_delay * 2.0 ** (attempt - 1))
        jitter: float = random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
        return max(base * jitter, hint or 0.0)
