"""The receiving pipeline: from an authenticated body to a stored decision.

`SignalPipeline.receive` reads top to bottom: parse the dialect -> authenticate the alert (the
source's passphrase) -> dedupe (repeats of a body within the source's window) -> route to a plugin
and map the symbol (`webhook.decide.routing`) -> decide (threshold, kill switch, risk rules,
protective prices, sizing: `webhook.decide.policy`), and whether a person must approve it first
(`webhook.decide.approval`) -> store durably -> hand queued signals to the executor. The caller
answers only after `receive` returns, so every `Receipt` describes a stored signal.
`SignalPipeline.preview` takes the same steps and stops before storing (`webhook.decide.preview`).
The first steps, which need only the request and its source, are `webhook.decide.arrival`'s.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import replace

from plugins.orders import Order
from plugins.registry import PluginRegistry
from webhook.agents.limits import outside_limits
from webhook.auth.passphrase import redact_passphrase_in_error
from webhook.config.settings import Settings
from webhook.decide.accounts import Account, chosen_accounts
from webhook.decide.approval import approval_rule
from webhook.decide.approvals import ApprovalQueue
from webhook.decide.arrival import Arrival, Incoming, Receipt, idempotency_key
from webhook.decide.fanout import ChildVerdict, FannedOut
from webhook.decide.policy import PolicyVerdict, SignalPolicy
from webhook.decide.preview import SignalPreview
from webhook.decide.repeat_window import RepeatWindow
from webhook.decide.routing import SymbolRouter
from webhook.dialects import ParsedSignal
from webhook.errors import PayloadError, SizingError
from webhook.execute.executor import ExecutionJob, Executor
from webhook.execute.kill_switch import KillSwitch
from webhook.journal import NewSignal, SignalJournal, SignalStatus
from webhook.journal.ids import new_signal_id
from webhook.observe.events import SignalEvents
from webhook.observe.logs import bind_signal

logger = logging.getLogger("tradehook.pipeline")


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
        signal = Arrival(incoming, self._settings.sources.get(incoming.source), new_signal_id())
        bind_signal(signal.id)
        try:
            parsed = signal.parse()
        except PayloadError as exc:
            return await self._store_invalid(signal, signal.redacted_or_refused(), exc)
        body = signal.authenticated(parsed)
        key = idempotency_key(incoming, parsed)
        window = signal.dedup_window(key)
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
        if (stored is not None and stored.attempt is not None
                and self._executor.runs_now(stored.signal_id)):
            # Its attempt is open and its task launched: let the order leave before the answer
            # is written (one turn of the loop, about the executor's 50 us before the send).
            # One that waits behind its lane's running order has nothing to send yet.
            await asyncio.sleep(0)
        # Logged once the order is on its way: the line is no part of the send's delay.
        logger.info("signal %s: %s %s via %s", signal.id, verdict.status, verdict.order.symbol,
                    plugin)
        return Receipt(signal.id, verdict.status, reason=verdict.reason, plugin=plugin,
                       dialect=parsed.dialect, rule=verdict.rule,
                       position_mismatch=verdict.position_mismatch)

    async def preview(self, incoming: Incoming) -> SignalPreview:
        """What `receive` would decide about `incoming` now, storing and executing nothing.
        Raises `Forbidden` for a wrong passphrase, as `receive` does."""
        signal = Arrival(incoming, self._settings.sources.get(incoming.source), "preview")
        seen = SignalPreview(status=SignalStatus.INVALID,
                             threshold=self._settings.threshold_for(incoming.source))
        try:
            parsed = signal.parse()
        except PayloadError as exc:
            signal.redacted_or_refused()
            return seen.model_copy(update={"error": str(exc), "field": exc.field})
        signal.authenticated(parsed)
        seen = seen.model_copy(update={"dialect": parsed.dialect,
                                       "alert_symbol": parsed.order.symbol})
        window = signal.dedup_window(idempotency_key(incoming, parsed))
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

    def _route(self, signal: Arrival, parsed: ParsedSignal) -> str:
        incoming = signal.incoming
        return self._router.route(
            parsed, incoming.source, signal.source,
            signed=incoming.signed,
        )

    def _accounts(
        self, signal: Arrival, parsed: ParsedSignal, routed: str
    ) -> list[Account] | None:
        incoming = signal.incoming
        allowed = signal.source.allow_accounts_field if signal.source else None
        return chosen_accounts(
            parsed, routed, self._settings.account_groups, list(self._settings.plugins),
            may_choose=incoming.signed if allowed is None else allowed,
            source_name=incoming.source,
        )

    async def _fan_out(
        self,
        signal: Arrival,
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
        self, signal: Arrival, parsed: ParsedSignal, order: Order, plugin: str
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
        signal: Arrival,
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
        return (ExecutionJob.of(record, leased=stored.leased, attempt=stored.attempt)
                if queued else None)

    async def _store_invalid(
        self,
        signal: Arrival,
        body: bytes,
        exc: PayloadError,
        parsed: ParsedSignal | None = None,
        key: str | None = None,
    ) -> Receipt:
        incoming = signal.incoming
        exc = redact_passphrase_in_error(exc, signal.source.passphrase if signal.source else None)
        if key is None and incoming.webhook_id:
            key = idempotency_key(incoming, None)
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
