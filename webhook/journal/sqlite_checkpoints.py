"""Checkpoints of the SQLite journal's WAL, on a thread and a connection of their own.

Left to itself, SQLite checkpoints inside the COMMIT that takes the WAL past 1,000 pages,
fsyncing the database file before that COMMIT returns. The journal commits a lone write on the
event loop (`webhook.journal.group_commit`), where such a checkpoint would hold every request
meanwhile, and a batch on the committer's thread or, on Linux, on the loop too, where it would
hold every write queued behind it.
So the journal's writer turns automatic checkpoints off (`wal_autocheckpoint=0`) and this thread
checkpoints instead, every `CHECKPOINT_EVERY` commits. PASSIVE checkpoints never wait for nor
block a writer: they copy what no reader still needs, and the WAL is rewritten from its start
once all of it has been copied.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

logger = logging.getLogger("tradehook.journal")
CHECKPOINT_EVERY = 200
"""Commits between two checkpoints: a lone signal's commit writes a few pages, so about the
1,000 pages at which SQLite would checkpoint by itself."""


class Checkpointer:
    def __init__(self, path: Path, every: int = CHECKPOINT_EVERY) -> None:
        self._path = path
        self._every = every
        self._commits = 0
        self._due = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.checkpoints = 0
        """Checkpoints run so far (for tests and diagnostics)."""

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="journal-checkpoint",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (closing the journal's last connection checkpoints what is left)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping = True
            self._due.set()
            thread.join()

    def committed(self) -> None:
        """A commit returned: every `every` of them, a checkpoint is due."""
        self._commits += 1
        if self._commits >= self._every:
            self._commits = 0
            self._due.set()

    def _serve(self) -> None:
        try:
            connection = sqlite3.connect(self._path, isolation_level=None)
        except sqlite3.Error as exc:
            logger.warning("cannot open the journal to checkpoint it: %s", exc)
            return
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._stopping:
                    return
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # a full disk: tried again at the next one due
                    logger.warning("journal checkpoint failed: %s", exc)
                else:
                    self.checkpoints += 1
        finally:
            connection.close()
