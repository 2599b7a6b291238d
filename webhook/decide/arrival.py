"""A signal as it arrives, and what receiving it came to: the first steps of the receiving
pipeline (`webhook.decide.pipeline`), which need nothing but the request and its source's
settings.

`Incoming` is the authenticated request; `Arrival` is it on its way, with its source's settings
and its new signal id: it parses the body in the source's dialect, checks the alert's
passphrase (and redacts it from what is stored), says within which window a repeat of the body
is a duplicate, and names the sender's idempotency key. `Receipt` is what is answered once the
signal is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from webhook.agents.settings import agent_source
from webhook.auth.passphrase import carries_passphrase, check_passphrase, redact_passphrase
from webhook.config.settings import SourceSettings
from webhook.dialects import ParsedSignal, parse_alert
from webhook.errors import Forbidden
from webhook.journal import SignalStatus


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

    @property
    def signed(self) -> bool:
        """Sent by a sender that signs (Standard Webhooks) or an agent with its token."""
        return self.webhook_id is not None or self.agent is not None


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


@dataclass(frozen=True)
class Arrival:
    """One request on its way through the pipeline: what came, from which source, its new id."""

    incoming: Incoming
    source: SourceSettings | None
    id: str

    def parse(self) -> ParsedSignal:
        """The body read in the source's dialect; raises `PayloadError`."""
        source = self.source
        parsed = parse_alert(
            self.incoming.body, source.dialect if source else "auto",
            default_quantity=source.sizing.quantity if source else None,
            pineconnector=source.pineconnector if source else None,
        )
        return parsed.model_copy(update={"test": True}) if self.incoming.test else parsed

    def authenticated(self, parsed: ParsedSignal) -> bytes:
        """The body to store, once the alert's passphrase (where its source has one) is right;
        raises `Forbidden` otherwise."""
        source = self.source
        if source is None or source.passphrase is None:
            return self.incoming.body
        check_passphrase(parsed.passphrase, source.passphrase)
        return redact_passphrase(self.incoming.body, source.passphrase)

    def redacted_or_refused(self) -> bytes:
        """An unreadable body from a passphrase source is kept only if it carries the
        passphrase (redacted); else `Forbidden`."""
        source = self.source
        if source is None or source.passphrase is None:
            return self.incoming.body
        if not carries_passphrase(self.incoming.body, source.passphrase):
            raise Forbidden("wrong or missing passphrase")
        return redact_passphrase(self.incoming.body, source.passphrase)

    def dedup_window(self, key: str | None) -> float | None:
        """Seconds within which the same body from the same source is a repeat; only for alerts
        that carry no idempotency key of their own."""
        if self.source is None or key is not None:
            return None
        return self.source.dedup_seconds


def idempotency_key(incoming: Incoming, parsed: ParsedSignal | None) -> str | None:
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
