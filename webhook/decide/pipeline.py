"""The receiving pipeline: from an authenticated body to a stored decision.

`SignalPipeline.receive` reads top to bottom: parse the dialect -> authenticate the alert (the
source's passphrase) -> dedupe (repeats of a body within the source's window) -> route to a plugin
and map the symbol (`webhook.decide.routing`) -> decide (threshold, kill switch, risk rules,
protective prices, sizing: `webhook.decide.policy`), and whether a person must approve it first
(`webhook.decide.approval`) -> store durably -> hand queued signals to the executor. The caller
answers only after `receive` returns, so every `Receipt` describes a stored signal.
`SignalPipeline.preview` takes the same steps and stops before storing (`webhook.decide.preview`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from plugins.orders import Order
from plugins.registry import PluginRegistry
from webhook.agents.limits import outside_limits
from webhook.agents.settings import agent_source
from webhook.auth.passphrase import (
    carries_passphrase,
    check_passphrase,
    redact_passphrase,
    redact_passphrase_in_error,
)
from webhook.config.settings import Settings, SourceSettings
from webhook.decide.accounts import Account, chosen_accounts
from webhook.decide.approval import approval_rule
from webhook.decide.approvals import ApprovalQueue
from webhook.decide.fanout import ChildVerdict, FannedOut
from webhook.decide.policy import PolicyVerdict, SignalPolicy
from webhook.decide.preview import SignalPreview
from webhook.decide.repeat_window import RepeatWindow
from webhook.decide.routing import SymbolRouter
from webhook.dialects import ParsedSignal, parse_alert
from webhook.errors import Forbidden, PayloadError, SizingError
from webhook.execute.executor import ExecutionJob, Executor
from webhook.execute.kill_switch import KillSwitch
from webhook.journal import NewSignal, SignalJournal, SignalStatus
from webhook.journal.ids import new_signal_id
from webhook.observe.events import SignalEvents
from webhook.observe.logs import bind_signal

logger = logging.getLogger("tradehook.pipeline")


@dataclass(frozen=True)
class Incoming:
    """An authenticated request: who sent it and what it carried."""

    source: str
    """The source whose rules apply (for an agent, its `source` setting)."""
    body: bytes
    content_type: str | None
    webhook_id: str | None = None
    """The sender's idempotency key from a header (`webhook-id`, an agent's `Idempotency-Key`)."""
    agent: str | None = None
    """The agent that sent it: the journal records the source as `agent:NAME`."""
    test: bool = False
    """A test (the dashboard's alert builder sends these): decided and stored like any signal
    of its source, never executed, whatever its dialect says."""

    @property
    def recorded_source(self) -> str:
        return agent_source(self.agent) if self.agent else self.source


@dataclass(frozen=True)
class Receipt:
    """What receiving one signal came to, once it is stored: its id and final answer status, and
    what the answer tells the sender. (The policy's `PolicyVerdict` comes before storing and
    carries the sized order; a `Receipt` is what is left of it, or of a refusal, for the answer.)
    """

    signal_id: str
    status: SignalStatus
    reason: str | None = None
    error: str | None = None
    field: str | None = None
    plugin: str | None = None
    dialect: str | None = None
    rule: str | None = None
    """The setting that rejected the signal (`sources.tv.risk.max_quantity`, `kill_switch`)."""
    position_mismatch: str | None = None
    """The alert expected another position than the broker's: to be told (an event)."""


class SignalPipeline:
    def __init__(
        self,
        settings: Settings,
        registry: PluginRegistry,
        journal: SignalJournal,
        executor: Executor,
        *,
        kill_switch: KillSwitch | None = None,
        events: SignalEvents | None = None,
    ) -> None:
        self._settings = settings
        self._journal = journal
        self._executor = executor
        self.kill_switch = kill_switch or KillSwitch(journal, configured=settings.kill_switch)
        self._router = SymbolRouter(settings, registry)
        self._repeats = RepeatWindow()
        self._policy = SignalPolicy(settings, registry, self.kill_switch)
        self.approvals = ApprovalQueue(settings, journal, executor, self._policy, events=events)
        """Signals stored `awaiting_approval`: approve, decline, expire."""

    async def receive(self, incoming: Incoming) -> Receipt:
        """Decide about one signal and store it. Raises `Forbidden` (nothing stored) for a wrong
        passphrase and `JournalError` when it could not be stored."""
        signal = _Arrival(incoming, self._settings.sources.get(incoming.source), new_signal_id())
        bind_signal(signal.id)
        try:
            parsed = self._parse(signal)
        except PayloadError as exc:
            return await self._store_invalid(signal, self._redacted_or_refused(signal), exc)
        body = self._authenticated(signal, parsed)
        key = _idempotency_key(incoming, parsed)
        window = self._dedup_window(signal, key)
        if window is not None and (first := self._repeats.first(incoming.source, incoming.body)):
            logger.info("signal %s: repeats %s within %gs", signal.id, first, window)
            return Receipt(first, SignalStatus.DUPLICATE, dialect=parsed.dialect)
        try:
            plugin = self._route(signal, parsed)
            accounts = self._accounts(signal, parsed, plugin)
        except PayloadError as exc:
            return await self._store_invalid(signal, body, exc, parsed, key)
        if accounts is not None:
            return await self._fan_out(signal, parsed, body, key, window, accounts)
        symbol = self._router.broker_symbol(plugin, parsed.order.symbol)
        order = parsed.order.model_copy(update={"client_order_id": signal.id, "symbol": symbol})
        async with self._policy.serialized(incoming.source, plugin, symbol,
                                           checks_position=parsed.expected_position is not None):
            try:
                verdict = await self._decide(signal, parsed, order, plugin)
            except PayloadError as exc:  # a protective price on the wrong side of the market
                return await self._store_invalid(signal, body, exc, parsed, key)
            stored = await self._store(signal, parsed, body, key, plugin, verdict)
            if isinstance(stored, Receipt):
                return stored
            if window is not None:
                self._repeats.remember(incoming.source, incoming.body, signal.id, window)
            if stored is not None:
                self._executor.submit(stored)
        return Receipt(signal.id, verdict.status, reason=verdict.reason, plugin=plugin,
                       dialect=parsed.dialect, rule=verdict.rule,
                       position_mismatch=verdict.position_mismatch)

    async def preview(self, incoming: Incoming) -> SignalPreview:
        """What `receive` would decide about `incoming` now, storing and executing nothing.
        Raises `Forbidden` for a wrong passphrase, as `receive` does."""
        signal = _Arrival(incoming, self._settings.sources.get(incoming.source), "preview")
        seen = SignalPreview(status=SignalStatus.INVALID,
                             threshold=self._settings.threshold_for(incoming.source))
        try:
            parsed = self._parse(signal)
        except PayloadError as exc:
            self._redacted_or_refused(signal)
            return seen.model_copy(update={"error": str(exc), "field": exc.field})
        self._authenticated(signal, parsed)
        seen = seen.model_copy(update={"dialect": parsed.dialect,
                                       "alert_symbol": parsed.order.symbol})
        window = self._dedup_window(signal, _idempotency_key(incoming, parsed))
        if window is not None and (first := self._repeats.first(incoming.source, incoming.body)):
            return seen.model_copy(update={"status": SignalStatus.DUPLICATE,
                                           "reason": f"repeats signal {first}"})
        try:
            plugin = self._route(signal, parsed)
            accounts = self._accounts(signal, parsed, plugin)
        except PayloadError as exc:
            return seen.model_copy(update={"error": str(exc), "field": exc.field,
                                           "order": parsed.order})
        fanned = ""
        if accounts is not None:  # the first account's decision stands for the others'
            plugin = accounts[0].plugin
            names = ", ".join(account.plugin for account in accounts)
            fanned = f"fans out to {len(accounts)} accounts ({names}); decided for {plugin}: "
            try:
                parsed, scaled = accounts[0].rule.apply(parsed, parsed.order)
                parsed = parsed.model_copy(update={"order": scaled})
            except SizingError as exc:
                return seen.model_copy(update={"status": SignalStatus.REJECTED,
                                               "reason": fanned + str(exc)})
        symbol = self._router.broker_symbol(plugin, parsed.order.symbol)
        order = parsed.order.model_copy(update={"symbol": symbol})
        async with self._policy.serialized(incoming.source, plugin, symbol,
                                           checks_position=parsed.expected_position is not None):
            try:
                verdict = await self._decide(signal, parsed, order, plugin)
            except PayloadError as exc:
                return seen.model_copy(update={"error": str(exc), "field": exc.field,
                                               "plugin": plugin, "order": order})
        verdict.release()
        reason = fanned + (verdict.reason or "") if fanned else verdict.reason
        return seen.model_copy(update={
            "status": verdict.status, "reason": reason, "rule": verdict.rule,
            "plugin": plugin, "order": verdict.order, "sizing": verdict.sizing,
        })

    def _parse(self, signal: _Arrival) -> ParsedSignal:
        source = signal.source
        parsed = parse_alert(
            signal.incoming.body, source.dialect if source else "auto",
            default_quantity=source.sizing.quantity if source else None,
            pineconnector=source.pineconnector if source else None,
        )
        return parsed.model_copy(update={"test": True}) if signal.incoming.test else parsed

    def _authenticated(self, signal: _Arrival, parsed: ParsedSignal) -> bytes:
        """The body to store, once the alert's passphrase (where its source has one) is right."""
        source = signal.source
        if source is None or source.passphrase is None:
            return signal.incoming.body
        check_passphrase(parsed.passphrase, source.passphrase)
        return redact_passphrase(signal.incoming.body, source.passphrase)

    def _redacted_or_refused(self, signal: _Arrival) -> bytes:
        """An unreadable body from a passphrase source is kept only if it carries the passphrase."""
        source = signal.source
        if source is None or source.passphrase is None:
            return signal.incoming.body
        if not carries_passphrase(signal.incoming.body, source.passphrase):
            raise Forbidden("wrong or missing passphrase")
        return redact_passphrase(signal.incoming.body, source.passphrase)

    def _dedup_window(self, signal: _Arrival, key: str | None) -> float | None:
        """Seconds within which the same body from the same source is a repeat; only for alerts
        that carry no idempotency key of their own."""
        if signal.source is None or key is not None:
            return None
        return signal.source.dedup_seconds

    def _route(self, signal: _Arrival, parsed: ParsedSignal) -> str:
        incoming = signal.incoming
        return self._router.route(
            parsed, incoming.source, signal.source,
            signed=incoming.webhook_id is not None or incoming.agent is not None,
        )

    def _accounts(
        self, signal: _Arrival, parsed: ParsedSignal, routed: str
    ) -> list[Account] | None:
        incoming = signal.incoming
        allowed = signal.source.allow_accounts_field if signal.source else None
        signed = incoming.webhook_id is not None or incoming.agent is not None
        return chosen_accounts(
            parsed, routed, self._settings.account_groups, list(self._settings.plugins),
            may_choose=signed if allowed is None else allowed, source_name=incoming.source,
        )

    async def _fan_out(
        self,
        signal: _Arrival,
        parsed: ParsedSignal,
        body: bytes,
        key: str | None,
        window: float | None,
        accounts: list[Account],
    ) -> Receipt:
        """One child signal per account, stored with the parent (`webhook.decide.fanout`)."""
        incoming = signal.incoming

        parent = NewSignal(
            id=signal.id, received_at=time.time(), source=incoming.recorded_source,
            dialect=parsed.dialect, idempotency_key=key, content_type=incoming.content_type,
            raw_body=body, order=parsed.order, status=SignalStatus.FANNED_OUT,
        )

        def hand_over(child: ChildVerdict) -> None:
            # Stored without a lease: the executor claims each child.
            if child.verdict.status is SignalStatus.QUEUED:
                self._executor.submit(ExecutionJob(
                    child.id, child.verdict.order, child.account.plugin, source=parent.source,
                    received_at=parent.received_at,
                ))

        fanned = FannedOut(
            parent,
            [(account, self._router.broker_symbol(account.plugin, parsed.order.symbol))
             for account in accounts],
        )
        async with fanned.locked(self._policy, incoming.source,
                                 checks_position=parsed.expected_position is not None):
            try:
                await fanned.decide(parsed, functools.partial(self._decide, signal))
            except PayloadError as exc:  # a protective price on the wrong side of the market
                fanned.release()
                return await self._store_invalid(signal, body, exc, parsed, key)
            stored = await fanned.store(self._journal)
            if stored.duplicate:
                logger.info("signal %s: duplicate of %s", signal.id, stored.signal_id)
                return Receipt(stored.signal_id, SignalStatus.DUPLICATE, dialect=parsed.dialect)
            if window is not None:
                self._repeats.remember(incoming.source, incoming.body, signal.id, window)
            fanned.hand_over(hand_over)
        return Receipt(signal.id, fanned.status, reason=fanned.reason, dialect=parsed.dialect,
                       position_mismatch=fanned.position_mismatch)

    async def _decide(
        self, signal: _Arrival, parsed: ParsedSignal, order: Order, plugin: str
    ) -> PolicyVerdict:
        source = signal.incoming.source
        agent = signal.incoming.agent
        if agent and (refused := outside_limits(agent, self._settings.agents.get(agent),
                                                plugin, parsed.order.symbol)):
            return PolicyVerdict(SignalStatus.REJECTED, order, reason=refused.reason,
                                 rule=refused.rule)
        queued: Sequence[Order] = ()
        if self._policy.limits_positions(source, plugin) or parsed.expected_position is not None:
            queued = await self._journal.pending_orders(plugin, order.symbol)
        verdict = await self._policy.decide(parsed, order, source, plugin, queued=queued)
        if verdict.status is not SignalStatus.QUEUED:
            return verdict
        rule = approval_rule(self._settings, source, agent)
        if (waits := rule.reason_to_wait(verdict.order.confidence)) is None:
            return verdict
        return replace(verdict, status=SignalStatus.AWAITING_APPROVAL, reason=waits,
                       approval_timeout=rule.timeout)

    async def _store(
        self,
        signal: _Arrival,
        parsed: ParsedSignal,
        body: bytes,
        key: str | None,
        plugin: str,
        verdict: PolicyVerdict,
    ) -> Receipt | ExecutionJob | None:
        """Store the decided signal: a `Receipt` when it was a duplicate, else the job to hand
        the executor when it is queued (leased to it already when its lane was free)."""
        incoming = signal.incoming
        now = time.time()
        queued = verdict.status is SignalStatus.QUEUED
        record = NewSignal(
            id=signal.id, received_at=now, source=incoming.recorded_source,
            dialect=parsed.dialect, idempotency_key=key, content_type=incoming.content_type,
            raw_body=body, order=verdict.order, plugin=plugin, status=verdict.status,
            reason=verdict.reason, sizing=verdict.sizing,
            approval_deadline=None if verdict.approval_timeout is None
            else now + verdict.approval_timeout,
            lease=self._executor.lease_for(plugin, starting=signal.id) if queued else None,
        )
        try:
            stored = await self._journal.record(record)
        except BaseException:
            verdict.release()
            raise
        if stored.duplicate:
            verdict.release()
            logger.info("signal %s: duplicate of %s", signal.id, stored.signal_id)
            return Receipt(stored.signal_id, SignalStatus.DUPLICATE, plugin=plugin,
                           dialect=parsed.dialect)
        logger.info("signal %s: %s %s via %s", signal.id, verdict.status, verdict.order.symbol,
                    plugin)
        return (ExecutionJob.of(record, leased=stored.leased, attempt=stored.attempt)
                if queued else None)

    async def _store_invalid(
        self,
        signal: _Arrival,
        body: bytes,
        exc: PayloadError,
        parsed: ParsedSignal | None = None,
        key: str | None = None,
    ) -> Receipt:
        incoming = signal.incoming
        exc = redact_passphrase_in_error(exc, signal.source.passphrase if signal.source else None)
        if key is None and incoming.webhook_id:
            key = _idempotency_key(incoming, None)
        record = NewSignal(
            id=signal.id, received_at=time.time(), source=incoming.recorded_source,
            dialect=parsed.dialect if parsed else None, idempotency_key=key,
            content_type=incoming.content_type, raw_body=body,
            order=parsed.order if parsed else None, status=SignalStatus.INVALID, error=str(exc),
        )
        stored = await self._journal.record(record)
        if stored.duplicate:
            return Receipt(stored.signal_id, SignalStatus.DUPLICATE)
        logger.info("signal %s: invalid: %s", signal.id, exc)
        return Receipt(
            signal.id, SignalStatus.INVALID, error=str(exc), field=exc.field,
            dialect=parsed.dialect if parsed else None,
        )


@dataclass(frozen=True)
class _Arrival:
    """One request on its way through the pipeline: what came, from which source, its new id."""

    incoming: Incoming
    source: SourceSettings | None
    id: str


def _idempotency_key(incoming: Incoming, parsed: ParsedSignal | None) -> str | None:
    """The sender's key, namespaced so that different senders cannot collide: a source name
    holds no `/` (`SOURCE_NAME`), so `source/NAME/` can never be `webhook-id:`'s prefix, nor
    `agent/NAME/` (an agent's key, from its `Idempotency-Key` or the body's `id`)."""
    if incoming.agent:
        given = incoming.webhook_id or (parsed.idempotency_key if parsed else None)
        return f"agent/{incoming.agent}/{given}" if given else None
    if incoming.webhook_id:
        return f"webhook-id:{incoming.webhook_id}"
    if parsed is not None and parsed.idempotency_key:
        return f"source/{incoming.source}/{parsed.idempotency_key}"
    return None
