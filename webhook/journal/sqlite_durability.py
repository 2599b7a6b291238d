"""How a batch the SQLite journal has committed reaches the disk before anyone is answered.

`GroupCommitter` runs a batch's jobs in one transaction and hands its COMMIT to a `Durability`,
which returns once what the COMMIT wrote is on disk. There are two:

- `FsyncInCommit`: the connection keeps `synchronous=FULL`, so SQLite fsyncs the WAL inside its
  COMMIT. A batch's COMMIT runs on the committer's own thread (`CommitThread`), so that the
  event loop goes on receiving while the disk works; that thread lives as long as the journal
  is open and is handed each COMMIT through a queue, because a thread pool's hand-off
  (`asyncio.to_thread`) cost about twice the CPU per commit.
- `HelperSync`, on Linux: the connection is at `synchronous=NORMAL`, so a batch's COMMIT writes
  the WAL without syncing it on the event loop, and a helper process fdatasyncs the WAL; the
  COMMIT is durable once that sync has returned (`webhook.journal.wal_sync`: why that is as
  durable as FULL, and what happens when the helper dies or a sync fails). When no helper can
  start, it falls back to `FsyncInCommit` for good.

A lone write on an idle journal (`lone`) commits on the event loop with `synchronous=FULL` in
both: SQLite's own fsync inside its COMMIT, with no hand-off to a thread or a helper, whose
round trips cost as much again as the fsync itself.

Neither trusts a level it could not set: should SQLite refuse a connection's switch to FULL,
`FsyncInCommit` fdatasyncs the WAL itself after each COMMIT, and `HelperSync` has the helper
sync a lone write as it syncs a batch. Such a COMMIT at NORMAL syncs nothing of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from webhook.journal.wal_sync import (
    HelperGone,
    HelperUnavailable,
    SyncFailed,
    WalSyncer,
    sync_file,
)

logger = logging.getLogger("tradehook.journal")
T = TypeVar("T")
_Call = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


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


def _syncing(connection: sqlite3.Connection, level: str) -> bool:
    """Set the connection's synchronous level, outside a transaction (SQLite refuses it
    inside one); False when SQLite refused it (the level is unchanged)."""
    try:
        connection.execute(f"PRAGMA synchronous={level}")
    except sqlite3.Error:
        return False
    return True


class Durability(ABC):
    """One way of making the journal's COMMITs durable, for the one connection that writes."""

    @property
    def syncer(self) -> WalSyncer | None:
        """The helper that syncs the WAL; None where each COMMIT fsyncs inside itself."""
        return None

    @abstractmethod
    def start(self) -> None:
        """Start what commits need (a thread, a helper); called once, on the event loop."""

    @abstractmethod
    async def stop(self) -> None:
        """End what `start` started."""

    @abstractmethod
    def opened(self, connection: sqlite3.Connection) -> None:
        """Set up a connection just opened (at synchronous=FULL) for this way of syncing."""

    @contextlib.contextmanager
    def transaction(self, connection: sqlite3.Connection, *, lone: bool) -> Iterator[None]:
        """Around a batch's whole transaction, from before its BEGIN to after its COMMIT."""
        yield

    @abstractmethod
    async def commit(self, connection: sqlite3.Connection, *, lone: bool) -> None:
        """COMMIT the open transaction and return once what it wrote is on disk. sqlite3.Error
        when the COMMIT failed (the caller rolls back); OSError when it committed but cannot
        be known to be on disk (nobody may be answered as stored)."""


class FsyncInCommit(Durability):
    """synchronous=FULL: every COMMIT fsyncs the WAL; a batch's COMMIT runs on the committer's
    thread. A connection that SQLite would not set to FULL has its WAL fdatasynced after each
    COMMIT instead, on the same thread."""

    def __init__(self, wal: Path) -> None:
        self._committer = CommitThread()
        self._wal = wal
        self._syncs_wal = False
        """Whether the WAL is synced after each COMMIT: the connection's level is not FULL."""

    def start(self) -> None:
        self._committer.start()

    async def stop(self) -> None:
        await self._committer.stop()

    def opened(self, connection: sqlite3.Connection) -> None:
        """Set the connection to FULL, or else sync its WAL after each COMMIT."""
        self._syncs_wal = not _syncing(connection, "FULL")

    async def commit(self, connection: sqlite3.Connection, *, lone: bool) -> None:
        if lone:
            self._commit(connection)
            return
        # The COMMIT waits for the disk; the event loop goes on receiving meanwhile.
        await asyncio.shield(self._committer.run(lambda: self._commit(connection)))

    def _commit(self, connection: sqlite3.Connection) -> None:
        connection.execute("COMMIT")
        if self._syncs_wal:  # committed at NORMAL: synced here, or OSError
            sync_file(self._wal)


class HelperSync(Durability):
    """synchronous=NORMAL, and the helper fdatasyncs the WAL after each batch's COMMIT."""

    def __init__(self, syncer: WalSyncer) -> None:
        self._syncer: WalSyncer | None = syncer
        self._fallback = FsyncInCommit(syncer.wal)
        """How commits are made durable once no helper can start."""
        self._at_full = False
        """The transaction under way is a lone write's, at synchronous=FULL."""

    @property
    def syncer(self) -> WalSyncer | None:
        return self._syncer

    def start(self) -> None:
        if self._syncer is None:
            return
        try:
            self._syncer.start()
        except HelperUnavailable as exc:
            logger.warning("%s; the journal fsyncs inside each COMMIT instead", exc)
            self._syncer = None
            self._fallback.start()

    async def stop(self) -> None:
        await self._fallback.stop()
        if self._syncer is not None:
            await self._syncer.stop()

    def opened(self, connection: sqlite3.Connection) -> None:
        if self._syncer is None:
            self._fallback.opened(connection)
        else:
            connection.execute("PRAGMA synchronous=NORMAL")

    @contextlib.contextmanager
    def transaction(self, connection: sqlite3.Connection, *, lone: bool) -> Iterator[None]:
        if not lone or self._syncer is None:
            yield
            return
        # A lone write: SQLite's fsync, no round trip. Refused, it stays at NORMAL, and the
        # helper syncs it, as a batch.
        if not _syncing(connection, "FULL"):
            yield
            return
        self._at_full = True
        try:
            yield
        finally:
            self._at_full = False
            _syncing(connection, "NORMAL")

    async def commit(self, connection: sqlite3.Connection, *, lone: bool) -> None:
        syncer = self._syncer
        if syncer is None:
            await self._fallback.commit(connection, lone=lone)
            return
        connection.execute("COMMIT")
        if self._at_full:  # a lone write (`transaction`): synced inside the COMMIT
            return
        try:
            # Committed, not yet durable: no one is answered before the WAL is synced.
            await asyncio.shield(syncer.sync())
        except HelperGone as exc:
            if isinstance(exc, HelperUnavailable):
                self._without_helper(connection, exc)
            # The helper went away before it answered: the batch may not be synced, so the
            # loop syncs the WAL itself, this once (OSError when that fails too).
            syncer.sync_here()
            logger.warning("%s; the journal synced its last batch itself", exc)
        # SyncFailed otherwise: the fdatasync itself failed, not retried (fsyncgate)

    def _without_helper(self, connection: sqlite3.Connection, why: SyncFailed) -> None:
        """No helper starts again: from now on every COMMIT fsyncs inside itself (or is
        followed by an fdatasync of the WAL, should SQLite refuse FULL), on the committer's
        thread, as where there is no helper at all."""
        logger.warning("%s; the journal fsyncs inside each COMMIT from now on", why)
        self._syncer = None
        self._fallback.opened(connection)
        self._fallback.start()
