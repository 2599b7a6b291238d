"""Group commit for one SQLite connection: many writers, one fsync.

Jobs queue up while a commit is on disk. The flusher then opens one transaction, runs every
queued job, and commits; a failing job rolls back alone (`GroupCommitter._run_jobs`). The
statements run on the event loop, where they cost microseconds and need no hand-off between
threads; only the COMMIT, which waits for fsync (WAL with synchronous=FULL), runs on the
committer's own thread so that requests keep being received meanwhile. That thread lives as long
as the journal is open and is handed each COMMIT through a queue: a thread pool's hand-off
(`asyncio.to_thread`) cost about twice the CPU per commit. A job's future resolves only after its
transaction's COMMIT has returned, that is after the data is on disk.

A write that finds the journal idle (nothing queued, no batch on its way, and no commit for
`IDLE_GAP` seconds) commits at once on the event loop instead, with no hand-off at all: a lone
signal, as at 50 signals/s, then waits for one fsync and nothing else (the two hand-offs around
a commit on the committer's thread cost as much again as the fsync itself). The loop is held for
that one fsync; the gap keeps it to writes that arrive alone, so that writes arriving together
still share a commit on the committer's thread while the loop goes on receiving.

On Linux, batches do not use the committer's thread: their fsync leaves the process instead
(`webhook.journal.wal_sync`). The connection commits a batch with `synchronous=NORMAL` on the
event loop, which writes the WAL without syncing it and costs tens of microseconds, and a helper
process fdatasyncs the WAL; the batch's writers are answered once that sync has returned, and
the writes queued meanwhile are the next batch. No thread then waits for the GIL to start or to
return from a COMMIT, which under load took longer than the disk. A lone write on an idle
journal still commits on the loop with `synchronous=FULL`: SQLite's own fsync inside its
COMMIT, with no round trip to the helper.

A commit that fails (the disk full or read-only) rolls its batch back whole and fails each of
its callers, so nothing is acknowledged that is not on disk; the connection stays open and the
next batch tries again, so writes succeed again as soon as the disk has room. Should even the
rollback fail, the connection is reopened for the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from webhook.errors import JournalError
from webhook.journal.wal_sync import HelperGone, HelperUnavailable, SyncFailed, WalSyncer
from webhook.journal.write_queue import WriteQueue

logger = logging.getLogger("tradehook.journal")
T = TypeVar("T")
PendingWrite = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any]"]
_Call = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]
IDLE_GAP = 0.002
"""Seconds without a commit after which a lone write commits on the event loop itself: under
load writes come closer together than this and share the committer thread's commits."""


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)


class CommitThread:
    """One thread that runs the calls handed to it, one after the other, each answered on the
    event loop that handed it."""

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="journal-commit", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._calls.put(None)
            await asyncio.to_thread(thread.join)

    def run(self, call: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((call, loop, future))
        return future

    def _serve(self) -> None:
        while (handed := self._calls.get()) is not None:
            call, loop, future = handed
            try:
                value, error = call(), None
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                value, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, value, error)
            except RuntimeError:  # the loop closed without stopping the journal: no one waits
                continue


class GroupCommitter(WriteQueue[PendingWrite]):
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        on_commit: Callable[[], None] | None = None,
        syncer: WalSyncer | None = None,
    ) -> None:
        super().__init__()
        self._connect = connect
        self._on_commit = on_commit
        self._syncer = syncer
        """Syncs the WAL after each COMMIT made with synchronous=NORMAL; None: the connection
        keeps the synchronous=FULL it was opened with, and commits on the committer's thread."""
        self._connection: sqlite3.Connection | None = None
        self._committer = CommitThread()
        self.failing: str | None = None
        """Why the last commit failed; None once one succeeds."""
        self._committed_at = 0.0
        """When the last commit returned (monotonic)."""

    @property
    def syncs_in_helper(self) -> bool:
        return self._syncer is not None

    async def start(self) -> None:
        try:
            connection = await asyncio.to_thread(self._connect)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open the journal: {exc}") from exc
        if self._syncer is not None:
            try:
                self._syncer.start()
            except HelperUnavailable as exc:
                logger.warning("%s; the journal fsyncs inside each COMMIT instead", exc)
                self._syncer = None
        self._connection = self._opened(connection)
        if self._syncer is None:
            self._committer.start()
        self._start_flushing()

    def _opened(self, connection: sqlite3.Connection) -> sqlite3.Connection:
        if self._syncer is not None:
            connection.execute("PRAGMA synchronous=NORMAL")  # the helper syncs the WAL
        return connection

    def _synced_here(self, syncer: WalSyncer, batch: list[PendingWrite], why: HelperGone
                     ) -> bool:
        """The helper went away before it answered, the batch committed but maybe not synced:
        the loop syncs the WAL itself, this once. False when that fails too (the batch is
        failed)."""
        try:
            syncer.sync_here()
        except OSError as exc:
            self._fail(batch, exc)
            return False
        logger.warning("%s; the journal synced its last batch itself", why)
        return True

    def _without_helper(self, connection: sqlite3.Connection, why: SyncFailed) -> None:
        """No helper starts again: from now on every COMMIT fsyncs inside itself, on the
        committer's thread, as where there is no helper at all."""
        logger.warning("%s; the journal fsyncs inside each COMMIT from now on", why)
        self._syncer = None
        self._syncing(connection, "FULL")
        self._committer.start()

    def _syncing(self, connection: sqlite3.Connection, level: str) -> None:
        with contextlib.suppress(sqlite3.Error):  # left at FULL: slower, as safe
            connection.execute(f"PRAGMA synchronous={level}")

    async def stop(self) -> None:
        if not await self._stop_flushing():
            return
        await self._committer.stop()
        if self._syncer is not None:
            await self._syncer.stop()
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
            await self._flush([(job, future)], on_loop=True)
        else:
            self._queue((job, future))
        return await future

    async def _flush(self, batch: list[PendingWrite], *, on_loop: bool = False) -> None:
        """Commit `batch`: on the committer's thread, or `on_loop` (a lone write on an idle
        journal: nothing else is waiting for the loop)."""
        connection = self._connection
        if connection is None:
            try:
                connection = await asyncio.to_thread(self._connect)
            except (sqlite3.Error, OSError) as exc:
                self._fail(batch, exc)
                return
            self._connection = connection = self._opened(connection)
        changes = connection.total_changes
        fsync_inside = on_loop and self._syncer is not None
        if fsync_inside:  # a lone write: SQLite's fsync, no round trip to the helper
            self._syncing(connection, "FULL")
        try:
            outcomes = self._run_jobs(connection, batch)
            if outcomes is None:
                return
            try:
                if on_loop or self._syncer is not None:
                    connection.execute("COMMIT")
                else:
                    # The COMMIT waits for the disk; the event loop goes on receiving meanwhile.
                    await asyncio.shield(
                        self._committer.run(lambda: connection.execute("COMMIT")))
            except sqlite3.Error as exc:
                self._rolled_back(connection, batch, exc)
                return
        finally:
            if fsync_inside and self._connection is connection:
                self._syncing(connection, "NORMAL")
        syncer = self._syncer
        if syncer is not None and not on_loop:
            try:
                # Committed, not yet durable: no one is answered before the WAL is synced.
                await asyncio.shield(syncer.sync())
            except HelperGone as exc:
                if isinstance(exc, HelperUnavailable):
                    self._without_helper(connection, exc)
                if not self._synced_here(syncer, batch, exc):
                    return
            except SyncFailed as exc:  # the fdatasync itself failed: not retried (fsyncgate)
                self._fail(batch, exc)
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
