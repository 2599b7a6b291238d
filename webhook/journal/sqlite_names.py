"""Executor names on a SQLite journal: a lock file beside the database for each name taken.

Leases are held by name, so two executors of one name would each take the other's signals for
their own. The name is held with an operating-system lock on `<journal>.executor-<hash>.lock`
(`filelock`: `flock` here, `LockFileEx` on Windows), which the system lets go when the process
ends, however it ends: a restart under the same name takes it again at once, while a second
process started on the same journal and name (the same command run twice) is refused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from filelock import FileLock, Timeout

from webhook.errors import NameTaken


class NameLocks:
    def __init__(self, journal: Path) -> None:
        self._journal = journal
        self._held: dict[str, FileLock] = {}

    def hold(self, owner: str) -> None:
        if owner in self._held:
            raise NameTaken(f"an executor named {owner!r} runs on this journal already")
        digest = hashlib.sha256(owner.encode()).hexdigest()[:16]
        lock = FileLock(self._journal.with_name(f"{self._journal.name}.executor-{digest}.lock"),
                        timeout=0, mode=0o600)
        try:
            lock.acquire()
        except Timeout as exc:
            raise NameTaken(
                f"another process runs an executor named {owner!r} on {self._journal}: give "
                "each instance its own [execution] instance name, or stop the other one"
            ) from exc
        except OSError as exc:
            raise NameTaken(f"cannot take the executor name {owner!r}: {exc}") from exc
        self._held[owner] = lock

    def release(self, owner: str) -> None:
        lock = self._held.pop(owner, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        for owner in list(self._held):
            self.release(owner)
