"""One SQLite connection on its own thread, committing queued work in batches.

Each job runs in a savepoint inside a shared transaction; the whole batch commits at once, so
many concurrent requests share one fsync. A job's future resolves only after the commit has
returned, that is after the data is on disk (WAL with synchronous=FULL).
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from webhook.errors import JournalError

T = TypeVar("T")
Job = tuple[Callable[[sqlite3.Connection], Any], "Future[Any]"]
MAX_BATCH = 1024
_STOP = object()


class GroupCommitter:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._jobs: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready: Future[None] = Future()

    async def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()
        await asyncio.wrap_future(self._ready)

    async def stop(self) -> None:
        if self._thread is None:
            return
        self._jobs.put(_STOP)
        await asyncio.to_thread(self._thread.join, 10)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run `job` on the journal's connection; return once its transaction is committed."""
        if not self.running:
            raise JournalError("the journal is closed")
        future: Future[T] = Future()
        self._jobs.put((job, future))
        return await asyncio.wrap_future(future)

    def _run(self) -> None:
        try:
            connection = self._connect()
        except (sqlite3.Error, OSError) as exc:
            self._ready.set_exception(JournalError(f"cannot open the journal: {exc}"))
            return
        self._ready.set_result(None)
        try:
            while True:
                first = self._jobs.get()
                if first is _STOP:
                    return
                batch = [first]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._jobs.get_nowait())
                    except queue.Empty:
                        break
                stop = _STOP in batch
                self._commit(connection, [job for job in batch if job is not _STOP])
                if stop:
                    return
        finally:
            connection.close()

    @staticmethod
    def _commit(connection: sqlite3.Connection, batch: list[Any]) -> None:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for job, future in batch:
                connection.execute("SAVEPOINT job")
                try:
                    value = job(connection)
                except Exception as exc:  # noqa: BLE001 - handed to the waiting caller
                    connection.execute("ROLLBACK TO job")
                    outcomes.append((future, None, exc))
                else:
                    outcomes.append((future, value, None))
                connection.execute("RELEASE job")
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if connection.in_transaction:
                connection.rollback()
            failure = JournalError(f"the journal could not commit: {exc}")
            failure.__cause__ = exc
            for _job, future in batch:
                future.set_exception(failure)
            return
        for future, value, error in outcomes:
            if error is None:
                future.set_result(value)
            elif isinstance(error, sqlite3.Error):
                translated = JournalError(f"journal error: {error}")
                translated.__cause__ = error
                future.set_exception(translated)
            else:
                future.set_exception(error)
