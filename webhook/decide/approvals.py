"""The approval queue: signals stored `awaiting_approval`, approved, declined or expired.

A person approves through the admin API, the dashboard or a Telegram button (never with an
agent token). Approval re-checks the kill switch, the agent's limits and the risk rules as they
are now; a refusal ends the signal `rejected` with the rule. Only then does one conditional write
move it from `awaiting_approval` to `queued` (`SignalJournal.settle_approval`): of two approvals,
a double click, or an approval racing the expiry, one wins and the signal reaches the executor
once. Every receiver expires overdue signals about once a second (also those that fell due
while it was down); the queue itself is the journal's, so a restart keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from plugins.orders import Order
from webhook.agents.limits import outside_limits
from webhook.agents.settings import AGENT_SOURCE_PREFIX
from webhook.config.settings import Settings
from webhook.decide.policy import SignalPolicy
from webhook.dialects import parse_alert
from webhook.errors import JournalError, PayloadError
from webhook.execute.executor import ExecutionJob, Executor
from webhook.journal import SignalJournal, SignalRecord, SignalStatus
from webhook.observe.events import SignalEvent, SignalEvents

logger = logging.getLogger("tradehook.approvals")
EXPIRY_INTERVAL = 1.0
"""Seconds between two looks for signals whose approval deadline has passed."""
EXPIRED_REASON = "expired: nobody approved it before its approval deadline; never sent"


@dataclass(frozen=True)
class ApprovalOutcome:
    """What asking to approve or decline a signal came to."""

    signal_id: str
    status: SignalStatus
    """The signal's status now."""
    done: bool
    """Whether this request decided it as asked (else it was decided otherwise, or before)."""
    reason: str | None = None
    rule: str | None = None


def sender_of(settings: Settings, recorded_source: str) -> tuple[str, str | None]:
    """The source whose rules apply and the agent, from the journal's `source` column."""
    if not recorded_source.startswith(AGENT_SOURCE_PREFIX):
        return recorded_source, None
    agent = recorded_source.removeprefix(AGENT_SOURCE_PREFIX)
    configured = settings.agents.get(agent)
    return (configured.source if configured is not None else "signed"), agent


class ApprovalQueue:
    def __init__(
        self,
        settings: Settings,
        journal: SignalJournal,
        executor: Executor,
        policy: SignalPolicy,
        *,
        events: SignalEvents | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._journal = journal
        self._executor = executor
        self._policy = policy
        self._events = events or SignalEvents()
        self._clock = clock
        self._expiry: asyncio.Task[None] | None = None

    async def waiting(self, limit: int = 100) -> list[SignalRecord]:
        """The signals awaiting approval, oldest (first to expire) first."""
        records = await self._journal.list_signals(status=SignalStatus.AWAITING_APPROVAL,
                                                   limit=limit)
        return sorted(records, key=lambda record: record.id)

    async def approve(self, signal_id: str, by: str) -> ApprovalOutcome | None:
        """Approve it on behalf of `by` (`the admin API`, `the dashboard`, ...); None when there
        is no such signal. Raises `JournalError` when the journal cannot be reached."""
        record = await self._journal.get(signal_id)
        if record is None or record.status is not SignalStatus.AWAITING_APPROVAL:
            return _decided_before(record)
        assert record.order is not None and record.plugin is not None  # noqa: S101 - waiting rows have both
        order, plugin = record.order, record.plugin
        source, agent = sender_of(self._settings, record.source)
        async with self._policy.serialized(source, plugin, order.symbol):
            refused = await self._recheck(record, order, plugin, source, agent)
            if refused is not None:
                return await self._settle(record, SignalStatus.REJECTED, *refused)
            return await self._settle(record, SignalStatus.QUEUED, f"approved by {by}")

    async def decline(self, signal_id: str, by: str) -> ApprovalOutcome | None:
        record = await self._journal.get(signal_id)
        if record is None or record.status is not SignalStatus.AWAITING_APPROVAL:
            return _decided_before(record)
        return await self._settle(record, SignalStatus.DECLINED, f"declined by {by}; never sent")

    async def expire_due(self) -> list[SignalRecord]:
        """Expire every signal whose approval deadline has passed; the ones this call expired."""
        expired = await self._journal.expire_approvals(self._clock(), EXPIRED_REASON)
        for record in expired:
            logger.info("signal %s: expired awaiting approval", record.id)
            self._publish(record)
        return expired

    def start(self) -> None:
        self._expiry = asyncio.create_task(self._expire_forever(), name="approval-expiry")

    async def stop(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry

    async def _expire_forever(self) -> None:
        while True:
            try:
                await self.expire_due()
            except JournalError as exc:
                logger.warning("cannot expire signals awaiting approval: %s", exc)
            except Exception:  # noqa: BLE001 - a bug must not stop every later expiry
                logger.exception("expiring signals awaiting approval failed; trying again")
            await asyncio.sleep(EXPIRY_INTERVAL)

    async def _recheck(
        self, record: SignalRecord, order: Order, plugin: str, source: str, agent: str | None
    ) -> tuple[str, str | None] | None:
        """(reason, rule) when what applies now forbids executing it."""
        alert_symbol = self._alert_symbol(record, order)
        if agent and (limited := outside_limits(agent, self._settings.agents.get(agent),
                                                plugin, alert_symbol)):
            return f"refused at approval: {limited.reason}", limited.rule
        queued: Sequence[Order] = ()
        if self._policy.limits_positions(source, plugin):
            queued = await self._journal.pending_orders(plugin, order.symbol)
        verdict = await self._policy.recheck(order, alert_symbol, source, plugin, queued=queued)
        if verdict is None:
            return None
        return f"refused at approval: {verdict.reason}", verdict.rule

    def _alert_symbol(self, record: SignalRecord, order: Order) -> str:
        """The symbol as the alert named it (source risk rules are written with it)."""
        try:
            return parse_alert(record.raw_body, record.dialect or "auto").order.symbol
        except PayloadError:
            return order.symbol

    async def _settle(
        self, record: SignalRecord, status: SignalStatus, reason: str, rule: str | None = None
    ) -> ApprovalOutcome:
        settled = await self._journal.settle_approval(record.id, status, at=self._clock(),
                                                      reason=reason)
        if settled is None:  # someone else decided first, or the deadline passed
            await self.expire_due()
            return _decided_before(await self._journal.get(record.id)) or ApprovalOutcome(
                record.id, record.status, done=False)
        logger.info("signal %s: %s", record.id, reason)
        if status is SignalStatus.QUEUED:
            self._executor.submit(ExecutionJob.of(settled))
        self._publish(settled)
        return ApprovalOutcome(record.id, status, done=status is not SignalStatus.REJECTED,
                               reason=reason, rule=rule)

    def _publish(self, record: SignalRecord) -> None:
        self._events.publish(SignalEvent(
            kind="approval", signal_id=record.id, status=record.status, source=record.source,
            dialect=record.dialect, plugin=record.plugin, symbol=record.symbol,
            reason=record.reason,
        ))


def _decided_before(record: SignalRecord | None) -> ApprovalOutcome | None:
    if record is None:
        return None
    return ApprovalOutcome(record.id, record.status, done=False, reason=record.reason)
