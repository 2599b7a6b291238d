"""What both journals' group commits share: writes queue up while the previous batch is on its
way, and one flusher task takes everything queued as the next batch.

`WriteQueue` holds the queue, the flusher's life (started with the journal, stopped once what
is queued is flushed) and the refusal once closed; a subclass says how a batch is made durable
(`_flush`): SQLite's `GroupCommitter`, PostgreSQL's `GroupWriter`.

A write that nothing but its own caller waits for may be queued to wait a moment for company
(`_queue(entry, within=...)`): it wakes no flusher, and goes with the next batch that another
write starts, or on its own once `within` seconds have passed.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from webhook.errors import JournalError

Entry = TypeVar("Entry")


class WriteQueue(ABC, Generic[Entry]):
    def __init__(self) -> None:
        self._queued: list[Entry] = []
        self._wakeup = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._closing = False
        self._flushing = False
        self._due: asyncio.TimerHandle | None = None
        """When a write queued to wait for company is to go on its own."""

    @property
    def running(self) -> bool:
        return self._flusher is not None and not self._closing

    def _idle(self) -> bool:
        """Nothing queued and no batch on its way: a write now would be a batch of its own."""
        return not self._queued and not self._flushing

    def _start_flushing(self) -> None:
        self._closing = False
        self._flusher = asyncio.create_task(self._flush_forever(), name="journal-flusher")

    async def _stop_flushing(self) -> bool:
        """Flush what is queued, then stop the flusher; False when it was not running."""
        if self._flusher is None:
            return False
        self._closing = True
        self._cancel_due()
        self._wakeup.set()
        await asyncio.shield(self._flusher)
        self._flusher = None
        return True

    def _queue(self, entry: Entry, *, within: float = 0.0) -> None:
        """Queue `entry` for the next batch, which starts now, or (`within`) when another write
        starts it or `within` seconds have passed; JournalError once the journal is closed."""
        if not self.running:
            raise JournalError("the journal is closed")
        self._queued.append(entry)
        if within <= 0:
            self._wakeup.set()
        elif self._due is None:
            self._due = asyncio.get_running_loop().call_later(within, self._went_alone)

    def _went_alone(self) -> None:
        self._due = None
        self._wakeup.set()

    def _cancel_due(self) -> None:
        """What waited for company goes now: its timer would only wake the flusher again (and
        cut short the wait of a write queued after)."""
        if self._due is not None:
            self._due.cancel()
            self._due = None

    async def _flush_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._queued = self._queued, []
            self._cancel_due()
            if batch:
                self._flushing = True
                try:
                    await self._flush(batch)
                finally:
                    self._flushing = False
            if self._closing and not self._queued:
                return

    @abstractmethod
    async def _flush(self, batch: list[Entry]) -> None:
        """Make `batch` durable and settle each entry's future."""
