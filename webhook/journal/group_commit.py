"""Group commit for one SQLite connection: many writers, one fsync.

Jobs queue up while a commit is on its way to the disk. The flusher then opens one transaction,
runs every queued job, and commits; a failing job rolls back alone (`GroupCommitter._run_jobs`).
The statements run on the event loop, where they cost microseconds and need no hand-off between
threads. How the COMMIT then reaches the disk is the `Durability`'s (`sqlite_durability`): on
the committer's thread with SQLite's own fsync, or, on Linux, with the WAL synced by a helper
process. A job's future resolves only once its transaction is on disk.

A write that finds the journal idle (nothing queued, no batch on its way, and no commit for
`IDLE_GAP` seconds) commits at once on the event loop instead, with no hand-off at all: a lone
signal, as at 50 signals/s, then waits for one fsync and nothing else. The loop is held for
that one fsync; the gap keeps it to writes that arrive alone, so that writes arriving together
still share a commit while the loop goes on receiving.

A commit that fails (the disk full or read-only) rolls its batch back whole and fails each of
its callers, so nothing is acknowledged that is not on disk; the connection stays open and the
next batch tries again, so writes succeed again as soon as the disk has room. Should even the
rollback fail, the connection is reopened for the next batch.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from webhook.errors import JournalError
from webhook.journal.sqlite_durability import Durability
from webhook.journal.wal_sync import WalSyncer
from webhook.journal.write_queue import WriteQueue

T = TypeVar("T")
PendingWrite = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any]"]
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]
IDLE_GAP = 0.002
"""Seconds without a commit after which a lone write commits on the event loop itself: under
load writes come closer together than this and share a batch's commit."""


class GroupCommitter(WriteQueue[PendingWrite]):
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        on_commit: Callable[[], None] | None = None,
        durability: Durability,
    ) -> None:
        super().__init__()
        self._connect = connect
        self._on_commit = on_commit
        self._durability = durability
        self._connection: sqlite3.Connection | None = None
        self.failing: str | None = None
        """Why the last commit failed; None once one succeeds."""
        self._committed_at = 0.0
        """When the last commit returned (monotonic)."""

    @property
    def syncer(self) -> WalSyncer | None:
        """The helper that syncs the WAL after each batch; None where each COMMIT fsyncs
        inside itself."""
        return self._durability.syncer

    async def start(self) -> None:
        try:
            connection = await asyncio.to_thread(self._connect)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open the journal: {exc}") from exc
        self._durability.start()
        try:
            self._durability.opened(connection)
        except sqlite3.Error as exc:
            connection.close()
            await self._durability.stop()
            raise JournalError(f"cannot open the journal: {exc}") from exc
        self._connection = connection
        self._start_flushing()

    async def stop(self) -> None:
        if not await self._stop_flushing():
            return
        await self._durability.stop()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def run(self, job: Callable[[sqlite3.Connection], T], *, within: float = 0.0) -> T:
        """Run `job` on the journal's connection; return once its transaction is committed.
        With `within`, the job may wait up to that many seconds for other writes to share its
        commit (`WriteQueue._queue`)."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if within > 0:
            self._queue((job, future), within=within)
        elif (self._connection is not None and self.running and self._idle()
                and time.monotonic() - self._committed_at >= IDLE_GAP):
            # With its connection open, a batch committed on the loop never suspends: the
            # future is done when this returns.
            await self._flush([(job, future)], lone=True)
        else:
            self._queue((job, future))
        return await future

    async def _flush(self, batch: list[PendingWrite], *, lone: bool = False) -> None:
        """Commit `batch` and answer its writers once it is on disk; `lone`: a lone write on an
        idle journal, committed on the loop (nothing else is waiting for it)."""
        connection = self._connection
        if connection is None:
            try:
                connection = await asyncio.to_thread(self._connect)
            except (sqlite3.Error, OSError) as exc:
                self._fail(batch, exc)
                return
            try:
                self._durability.opened(connection)
            except sqlite3.Error as exc:  # tried again, with a new connection, next batch
                connection.close()
                self._fail(batch, exc)
                return
            self._connection = connection
        changes = connection.total_changes
        with self._durability.transaction(connection, lone=lone):
            outcomes = self._run_jobs(connection, batch)
            if outcomes is None:
                return
            try:
                await self._durability.commit(connection, lone=lone)
            except sqlite3.Error as exc:
                self._rolled_back(connection, batch, exc)
                return
            except OSError as exc:  # committed, but not known to be on disk: nobody is told
                self._fail(batch, exc)  # it is stored
                return
        self._settle_all(outcomes, wrote=connection.total_changes != changes)

    def _run_jobs(
        self, connection: sqlite3.Connection, batch: list[PendingWrite]
    ) -> list[_Outcome] | None:
        """Open the batch's transaction and run its jobs; None when the transaction itself
        failed (the batch is failed and rolled back).

        The jobs run one after the other first. Only when one of them fails is the transaction
        rolled back and each job run again in a savepoint of its own, so that the failing one
        rolls back alone: a savepoint costs two statements a job (a receipt's own work is two
        or three), and a job seldom fails. Jobs touch nothing but the connection, so running them
        again after the rollback is the same as running them once."""
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                return [(future, job(connection), None) for job, future in batch]
            except Exception:  # noqa: BLE001 - found again below, in the job's own savepoint
                if connection.in_transaction:  # (SQLite ends it itself on some errors)
                    connection.execute("ROLLBACK")
            connection.execute("BEGIN IMMEDIATE")
            outcomes: list[_Outcome] = []
            for job, future in batch:
                connection.execute("SAVEPOINT job")
                try:
                    outcomes.append((future, job(connection), None))
                except Exception as exc:  # noqa: BLE001 - handed to the waiting caller
                    connection.execute("ROLLBACK TO job")
                    outcomes.append((future, None, exc))
                connection.execute("RELEASE job")
        except sqlite3.Error as exc:
            self._rolled_back(connection, batch, exc)
            return None
        return outcomes

    def _rolled_back(
        self, connection: sqlite3.Connection, batch: list[PendingWrite], exc: sqlite3.Error
    ) -> None:
        try:
            if connection.in_transaction:
                connection.rollback()
        except sqlite3.Error:
            connection.close()
            self._connection = None  # reopened for the next batch
        self._fail(batch, exc)

    def _settle_all(self, outcomes: list[_Outcome], *, wrote: bool) -> None:
        """After the COMMIT: each job's value or error to its caller. Only a commit that wrote
        something shows that the disk takes writes again: one that wrote nothing (an executor's
        claim that found nothing to claim) succeeds on a full disk too."""
        if wrote:
            self.failing = None
        self._committed_at = time.monotonic()
        if self._on_commit is not None:
            self._on_commit()
        for future, value, error in outcomes:
            if future.done():
                continue  # the caller gave up waiting; the write stands
            if error is None:
                future.set_result(value)
            elif isinstance(error, sqlite3.Error):
                translated = JournalError(f"journal error: {error}")
                translated.__cause__ = error
                future.set_exception(translated)
            else:
                future.set_exception(error)

    def _fail(self, batch: list[PendingWrite], exc: Exception) -> None:
        self.failing = str(exc)
        self._committed_at = time.monotonic()  # a failing disk: the next writes queue
        failure = JournalError(f"the journal could not commit: {exc}")
        failure.__cause__ = exc
        for _job, future in batch:
            if not future.done():
                future.set_exception(failure)
