"""Replay: the journal's stored signals decided again under other settings, nothing stored.

Each stored raw body goes through `SignalPipeline.preview` built on the new settings (parse,
routing and symbol mapping, threshold, kill switch as configured, risk rules, sizing with the
broker's price and balance from the started plugins): nothing is stored, nothing executed, and no
rate-limit slot is kept. What it decided is set against what the journal says was decided then.

Stored bodies had their source's passphrase removed before storing, so replay does not ask for
one. Rate limits (`max_signals_per_minute`) and the repeat window are judged per signal, not over
the replayed history: preview keeps no slot and remembers no body.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from plugins.registry import PluginRegistry
from webhook.agents.settings import AGENT_SOURCE_PREFIX
from webhook.config.settings import Settings
from webhook.decide.arrival import Incoming
from webhook.decide.pipeline import SignalPipeline
from webhook.decide.preview import SignalPreview
from webhook.errors import Forbidden
from webhook.execute.executor import Executor
from webhook.execute.kill_switch import KillSwitch
from webhook.journal import SignalJournal, SignalRecord, SignalStatus
from webhook.journal.records import parent_of

SENT = "queued"
"""What a signal that was handed to the executor counts as, whatever became of it there."""
_DECIDED_THEN = {SignalStatus.INVALID, SignalStatus.FILTERED, SignalStatus.REJECTED,
                 SignalStatus.DUPLICATE}


@dataclass(frozen=True)
class Decision:
    """What was (or would be) decided about one signal."""

    status: str
    plugin: str | None = None
    quantity: float | None = None
    why: str | None = None
    """The rule, reason or error behind a refusal."""

    def same_as(self, other: Decision) -> bool:
        return (self.status, self.plugin, self.quantity) == (
            other.status, other.plugin, other.quantity)


@dataclass(frozen=True)
class ReplayedSignal:
    signal_id: str
    received_at: float
    source: str
    then: Decision
    now: Decision

    @property
    def changed(self) -> bool:
        return not self.then.same_as(self.now)


@dataclass(frozen=True)
class ReplayReport:
    signals: tuple[ReplayedSignal, ...]

    @property
    def changed(self) -> tuple[ReplayedSignal, ...]:
        return tuple(s for s in self.signals if s.changed)

    def totals(self) -> dict[str, tuple[int, int]]:
        """Decision -> (signals that got it then, signals that would get it now)."""
        then = Counter(s.then.status for s in self.signals)
        now = Counter(s.now.status for s in self.signals)
        return {status: (then[status], now[status]) for status in sorted(then.keys() | now)}


def decided_then(record: SignalRecord) -> Decision:
    """What was decided on receipt: a signal that waited for a person counts as
    `awaiting_approval`, however the person (or the deadline) decided after."""
    status = record.status.value if record.status in _DECIDED_THEN else SENT
    if record.approval_deadline is not None:
        status = SignalStatus.AWAITING_APPROVAL.value
    quantity = record.order.quantity if record.order is not None else None
    return Decision(status, record.plugin, quantity, record.error or record.reason)


def decided_now(preview: SignalPreview) -> Decision:
    status = SENT if preview.status is SignalStatus.QUEUED else preview.status.value
    quantity = preview.order.quantity if preview.order is not None else None
    return Decision(status, preview.plugin, quantity, preview.rule or preview.reason
                    or preview.error)


def replay_settings(settings: Settings) -> Settings:
    """The new settings as replay applies them: no passphrase (stored bodies carry none)."""
    sources = {name: source.model_copy(update={"passphrase": None})
               for name, source in settings.sources.items()}
    return settings.model_copy(update={"sources": sources})


class SignalReplay:
    """Decides stored signals again with `settings` and the plugins in `registry`."""

    def __init__(self, settings: Settings, registry: PluginRegistry,
                 journal: SignalJournal) -> None:
        settings = replay_settings(settings)
        executor = Executor(journal, registry, settings.execution)  # never started: holds none
        switch = KillSwitch(journal, configured=settings.kill_switch)
        self._settings = settings
        self._journal = journal
        self._pipeline = SignalPipeline(settings, registry, journal, executor,
                                        kill_switch=switch)

    async def replay(
        self, records: Iterable[SignalRecord],
        progress: Callable[[int], None] | None = None,
    ) -> ReplayReport:
        """Oldest first, as they arrived; `progress` is told how many are done after each."""
        replayed = []
        for done, record in enumerate(records, start=1):
            if parent_of(record.id) is None:  # a child is replayed with its parent
                replayed.append(await self._one(record))
            if progress is not None:
                progress(done)
        return ReplayReport(tuple(replayed))

    async def _one(self, record: SignalRecord) -> ReplayedSignal:
        try:
            preview = await self._pipeline.preview(self._incoming(record))
            now = decided_now(preview)
        except Forbidden as exc:
            now = Decision(SignalStatus.INVALID.value, why=str(exc))
        then = record
        if record.status is SignalStatus.FANNED_OUT:
            # The preview decides a fanned-out signal for its first account: compare with that.
            full = await self._journal.get(record.id)
            then = full.children[0] if full is not None and full.children else record
        return ReplayedSignal(record.id, record.received_at, record.source,
                              decided_then(then), now)

    def _incoming(self, record: SignalRecord) -> Incoming:
        """The request as it came: an agent's signal under its source's rules, a signed one
        (its `webhook-id` key kept) as signed."""
        key = record.idempotency_key or ""
        webhook_id = key.removeprefix("webhook-id:") if key.startswith("webhook-id:") else None
        agent = None
        source = record.source
        if source.startswith(AGENT_SOURCE_PREFIX):
            agent = source.removeprefix(AGENT_SOURCE_PREFIX)
            configured = self._settings.agents.get(agent)
            source = configured.source if configured is not None else "signed"
        return Incoming(source=source, body=record.raw_body, content_type=record.content_type,
                        webhook_id=webhook_id, agent=agent)

