"""The receiving pipeline: from an authenticated body to a stored decision.

parse the dialect -> check the source's passphrase -> route to a plugin and map the symbol
(`webhook.decide.routing`) -> apply the policy (threshold, kill switch, risk rules, sizing:
`webhook.decide.policy`) -> store durably -> hand queued signals to the executor. The caller answers
only after `receive` returns, so every answer describes a stored signal.
"""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass

from plugins.registry import PluginRegistry
from webhook.config.settings import Settings, SourceSettings
from webhook.decide.kill_switch import KillSwitch
from webhook.decide.policy import SignalPolicy
from webhook.decide.repeat_window import RepeatWindow
from webhook.decide.routing import SymbolRouter
from webhook.dialects import ParsedSignal, parse_alert
from webhook.errors import Forbidden, PayloadError
from webhook.execute.executor import Executor, Job
from webhook.journal import NewSignal, SignalJournal, SignalStatus
from webhook.journal.ids import new_signal_id
from webhook.observe.logs import bind_signal

logger = logging.getLogger("tradehook.pipeline")
REDACTED = b"[redacted]"
SIGNED_SOURCE = "signed"
"""The source name recorded for requests verified by HMAC signature."""


@dataclass(frozen=True)
class Incoming:
    """An authenticated request: who sent it and what it carried."""

    source: str
    body: bytes
    content_type: str | None
    webhook_id: str | None = None


@dataclass(frozen=True)
class Decision:
    signal_id: str
    status: SignalStatus
    reason: str | None = None
    error: str | None = None
    field: str | None = None
    plugin: str | None = None
    dialect: str | None = None
    rule: str | None = None
    """The setting that rejected the signal (`sources.tv.risk.max_quantity`, `kill_switch`)."""


class SignalPipeline:
    def __init__(
        self,
        settings: Settings,
        registry: PluginRegistry,
        journal: SignalJournal,
        executor: Executor,
        *,
        kill_switch: KillSwitch | None = None,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._journal = journal
        self._executor = executor
        self.kill_switch = kill_switch or KillSwitch(journal, configured=settings.kill_switch)
        self._router = SymbolRouter(settings, registry)
        self._repeats = RepeatWindow()
        self._policy = SignalPolicy(settings, registry, self.kill_switch, executor.queued_orders)

    async def receive(self, incoming: Incoming) -> Decision:
        """Decide about one signal and store it. Raises `Forbidden` (nothing stored) for a wrong
        passphrase and `JournalError` when it could not be stored."""
        source = self._settings.sources.get(incoming.source)
        signal_id = new_signal_id()
        bind_signal(signal_id)
        body = incoming.body
        try:
            parsed = parse_alert(
                body, source.dialect if source else "auto",
                default_quantity=source.sizing.quantity if source else None,
            )
        except PayloadError as exc:
            if source is not None and source.passphrase is not None:
                body = _redact_or_refuse(body, source)
            return await self._store_invalid(incoming, signal_id, body, exc)
        if source is not None and source.passphrase is not None:
            _check_passphrase(parsed, source)
            body = body.replace(source.passphrase.get_secret_value().encode(), REDACTED)
        key = _idempotency_key(incoming, parsed)
        dedup_seconds = source.dedup_seconds if source is not None and key is None else None
        if dedup_seconds is not None:
            first = self._repeats.first(incoming.source, incoming.body)
            if first is not None:
                logger.info("signal %s: repeats %s within %gs", signal_id, first, dedup_seconds)
                return Decision(first, SignalStatus.DUPLICATE, dialect=parsed.dialect)
        try:
            plugin = self._router.route(
                parsed, incoming.source, source, signed=incoming.webhook_id is not None
            )
        except PayloadError as exc:
            return await self._store_invalid(incoming, signal_id, body, exc, parsed, key)
        broker_symbol = self._router.broker_symbol(plugin, parsed.order.symbol)
        order = parsed.order.model_copy(
            update={"client_order_id": signal_id, "symbol": broker_symbol}
        )
        async with self._policy.serialized(incoming.source, plugin, broker_symbol):
            verdict = await self._policy.decide(parsed, order, incoming.source, plugin)
            order, status, reason = verdict.order, verdict.status, verdict.reason
            signal = NewSignal(
                id=signal_id, received_at=time.time(), source=incoming.source,
                dialect=parsed.dialect, idempotency_key=key, content_type=incoming.content_type,
                raw_body=body, order=order, plugin=plugin, status=status, reason=reason,
                sizing=verdict.sizing,
            )
            try:
                stored = await self._journal.record(signal)
            except BaseException:
                verdict.release()
                raise
            if stored.duplicate:
                verdict.release()
                logger.info("signal %s: duplicate of %s", signal_id, stored.signal_id)
                return Decision(
                    stored.signal_id, SignalStatus.DUPLICATE, plugin=plugin,
                    dialect=parsed.dialect,
                )
            logger.info("signal %s: %s %s via %s", signal_id, status, order.symbol, plugin)
            if dedup_seconds is not None:
                self._repeats.remember(incoming.source, incoming.body, signal_id, dedup_seconds)
            if status is SignalStatus.QUEUED:
                self._executor.submit(Job(signal_id=signal_id, order=order, plugin=plugin))
        return Decision(signal_id, status, reason=reason, plugin=plugin, dialect=parsed.dialect,
                        rule=verdict.rule)

    async def _store_invalid(
        self,
        incoming: Incoming,
        signal_id: str,
        body: bytes,
        exc: PayloadError,
        parsed: ParsedSignal | None = None,
        key: str | None = None,
    ) -> Decision:
        if key is None and incoming.webhook_id:
            key = _idempotency_key(incoming, None)
        signal = NewSignal(
            id=signal_id, received_at=time.time(), source=incoming.source,
            dialect=parsed.dialect if parsed else None, idempotency_key=key,
            content_type=incoming.content_type, raw_body=body,
            order=parsed.order if parsed else None, status=SignalStatus.INVALID, error=str(exc),
        )
        stored = await self._journal.record(signal)
        if stored.duplicate:
            return Decision(stored.signal_id, SignalStatus.DUPLICATE)
        logger.info("signal %s: invalid: %s", signal_id, exc)
        return Decision(
            signal_id, SignalStatus.INVALID, error=str(exc), field=exc.field,
            dialect=parsed.dialect if parsed else None,
        )


def _idempotency_key(incoming: Incoming, parsed: ParsedSignal | None) -> str | None:
    """The sender's key, namespaced so that different senders cannot collide."""
    if incoming.webhook_id:
        return f"webhook-id:{incoming.webhook_id}"
    if parsed is not None and parsed.idempotency_key:
        return f"{incoming.source}:{parsed.idempotency_key}"
    return None


def _check_passphrase(parsed: ParsedSignal, source: SourceSettings) -> None:
    assert source.passphrase is not None  # noqa: S101 - checked by the caller
    expected = source.passphrase.get_secret_value().encode()
    offered = (parsed.passphrase or "").encode()
    if not hmac.compare_digest(expected, offered):
        raise Forbidden("wrong or missing passphrase")


def _redact_or_refuse(body: bytes, source: SourceSettings) -> bytes:
    """An unparsable body from a passphrase source is kept only if it carries the passphrase."""
    assert source.passphrase is not None  # noqa: S101 - checked by the caller
    secret = source.passphrase.get_secret_value().encode()
    if secret not in body:
        raise Forbidden("wrong or missing passphrase")
    return body.replace(secret, REDACTED)
