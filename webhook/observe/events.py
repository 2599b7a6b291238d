"""What happens to signals, told to whoever listens, without ever slowing the teller.

The signal endpoints publish each decision, the executor each finished attempt, the kill switch
each change. Metrics listen with plain callbacks (they only count); the dashboard's live stream
and the notifier subscribe with bounded queues and do their slow work in their own tasks. A
subscriber that falls behind loses its oldest events and is told so, never the publisher.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from webhook.journal import SignalStatus

logger = logging.getLogger("tradehook.events")

TERMINAL_STATUSES = frozenset(
    {
        SignalStatus.FILLED,
        SignalStatus.PARTIALLY_FILLED,
        SignalStatus.PLACED,
        SignalStatus.REJECTED,
        SignalStatus.FAILED,
        SignalStatus.CANCELLED,
        SignalStatus.UNKNOWN,
        SignalStatus.EXPIRED,
        SignalStatus.DECLINED,
    }
)


class SignalEvent(BaseModel):
    """One thing that happened: a decision, an execution attempt, a kill switch change, a
    signal awaiting approval approved (`queued`), declined, expired or refused (`rejected`) at
    approval, a position mismatch (`reason` says what), or the server beginning to stop (live
    streams end then)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["decided", "attempt", "kill_switch", "approval", "shutdown",
                  "position_mismatch", "exit"]
    at: float = Field(default_factory=time.time)
    signal_id: str | None = None
    status: SignalStatus | None = None
    source: str | None = None
    dialect: str | None = None
    plugin: str | None = None
    symbol: str | None = None
    outcome: str | None = None
    """Of an attempt: `result`, `temporary`, `unknown`, `reconciled`, `error`, ..."""
    seconds: float | None = None
    """Of an attempt: how long it took."""
    reason: str | None = None
    error: str | None = None
    engaged: bool | None = None
    """Of a kill switch change: its new state."""
    exits: bool = False
    """Of an attempt: its order asked for managed exits (the exits manager adopts it)."""

    @property
    def final(self) -> bool:
        """An attempt that settled the signal (no more attempts follow)."""
        return self.kind == "attempt" and self.status in TERMINAL_STATUSES


class Subscription:
    """A bounded queue of events; `lost` counts what was dropped because it was full."""

    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[SignalEvent] = asyncio.Queue(maxsize)
        self.lost = 0

    def offer(self, event: SignalEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.queue.task_done()
            self.lost += 1
        self.queue.put_nowait(event)

    async def get(self) -> SignalEvent:
        return await self.queue.get()

    def pending(self) -> list[SignalEvent]:
        """Every event already waiting, oldest first, without waiting for more."""
        waiting = []
        while not self.queue.empty():
            waiting.append(self.queue.get_nowait())
            self.queue.task_done()
        return waiting


class SignalEvents:
    """The hub. `publish` is synchronous and cheap; call it from the event loop's thread."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[SignalEvent], None]] = []
        self._subscriptions: set[Subscription] = set()

    def listen(self, callback: Callable[[SignalEvent], None]) -> None:
        """Call `callback` inline for every event; it must be quick and must not block."""
        self._listeners.append(callback)

    @contextmanager
    def subscribe(self, maxsize: int = 1000) -> Iterator[Subscription]:
        subscription = Subscription(maxsize)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def publish(self, event: SignalEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener's bug must not reach the publisher
                logger.exception("event listener failed")
        if self._subscriptions:  # nobody follows the stream most of the time
            for subscription in list(self._subscriptions):
                subscription.offer(event)
