"""Group commit for the PostgreSQL journal: the writes of many requests in one transaction,
sent to the server in one round trip.

Writes queue up while a batch is on its way. The flusher then sends every queued write of one
kind as one set-based statement (`webhook.journal.postgres_writes`), every kind in the same
transaction, in pipeline mode on a connection of its own: the statements and the Sync that
commits them travel together and one WAL flush makes them durable. A write's future resolves
only once the commit has returned, that is once it is on disk.

When the server refuses a batch (a statement failed), each of its writes is tried again in a
transaction of its own, so that one bad write fails alone. A connection the server closed while
it was idle is replaced before a batch is sent into it; one that breaks under a batch fails the
batch's writes with JournalError (the COMMIT may or may not have happened: the client asks
again, and the idempotency key finds what was stored), and the next batch connects afresh.
"""

from __future__ import annotations

import asyncio
import select
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import psycopg

from webhook.errors import JournalError
from webhook.journal.write_queue import WriteQueue

Connection = psycopg.AsyncConnection[tuple[Any, ...]]
Item = TypeVar("Item")
Result = TypeVar("Result")
Reader = Callable[[], Awaitable[list[Any]]]


class BatchedWrite(ABC, Generic[Item, Result]):
    """One kind of write that many callers make at once, sent for all of them as one set."""

    @abstractmethod
    async def send(self, connection: Connection, items: Sequence[Item]) -> Reader:
        """Send the statements that write `items` (in pipeline mode: nothing is read yet);
        return the reader of their outcome, called once the transaction has committed: one
        Result per item in order, or the Exception to raise to that item's caller alone."""


Queued = tuple[BatchedWrite[Any, Any], Any, "asyncio.Future[Any]"]


class GroupWriter(WriteQueue[Queued]):
    def __init__(self, connect: Callable[[], Awaitable[Connection]],
                 scrub: Callable[[str], str]) -> None:
        super().__init__()
        self._connect = connect
        self._scrub = scrub
        self._connection: Connection | None = None

    async def start(self) -> None:
        self._connection = await self._connect()
        self._start_flushing()

    async def stop(self) -> None:
        if not await self._stop_flushing():
            return
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()

    async def write(self, kind: BatchedWrite[Item, Result], item: Item) -> Result:
        """Write `item`; return its outcome once its transaction is committed."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue((kind, item, future))
        return await future

    async def _flush(self, batch: list[Queued]) -> None:
        try:
            await self._commit(batch)
        except psycopg.Error as exc:
            if self._connection is not None and self._connection.closed:
                self._connection = None  # reconnected for the next batch
            if self._connection is None or len(batch) == 1:
                self._fail(batch, exc)
                return
            for queued in batch:  # the server refused the batch: find the write it refused
                try:
                    await self._commit([queued])
                except psycopg.Error as alone:
                    self._fail([queued], alone)
        except Exception as exc:  # noqa: BLE001 - a fault here must not stop the flusher
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)

    async def _commit(self, batch: list[Queued]) -> None:
        if self._connection is not None and _closed_by_server(self._connection):
            await self._connection.close()
            self._connection = None
        if self._connection is None:
            self._connection = await self._connect()
        connection = self._connection
        kinds: dict[BatchedWrite[Any, Any], list[Queued]] = {}
        for queued in batch:
            kinds.setdefault(queued[0], []).append(queued)
        # One round trip: the statements, then the pipeline's one Sync. What a pipeline sends
        # before its Sync runs as one implicit transaction, committed at the Sync or, after a
        # failed statement, rolled back whole (PostgreSQL's protocol, "Pipelining").
        async with connection.pipeline():
            readers = [(await kind.send(connection, [item for _, item, _ in writes]), writes)
                       for kind, writes in kinds.items()]
        # Committed: each caller now learns its outcome (and nothing is written again).
        for read, writes in readers:
            try:
                outcomes = await read()
            except Exception as exc:  # noqa: BLE001 - handed to the waiting callers
                outcomes = [exc] * len(writes)
            for (_, _, future), outcome in zip(writes, outcomes, strict=True):
                if future.done():
                    continue  # the caller gave up waiting; the write stands
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def _fail(self, batch: list[Queued], exc: psycopg.Error) -> None:
        failure = JournalError(f"journal error: {self._scrub(str(exc))}")
        failure.__cause__ = exc
        for _, _, future in batch:
            if not future.done():
                future.set_exception(failure)


def _closed_by_server(connection: Connection) -> bool:
    """Whether the server has written to the idle connection: it does so only as it closes it
    (a terminated backend, a restart), so a batch is not sent into a dead connection."""
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    return bool(readable)
