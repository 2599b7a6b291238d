"""Executor names on a PostgreSQL journal: a session advisory lock for each name taken.

Leases are held by name, so two executors of one name would each take the other's signals for
their own. Each name taken holds `pg_try_advisory_lock` on a connection of its own (in the
journal's schema, as the lanes' locks are); the server lets the lock go as that session ends,
and a process that dies ends its sessions. A second instance started under a name that a live
one holds (a configuration copied without changing `[execution] instance`) is refused. Should
the connection that holds a name break while its process lives (the server restarted), the
name is free until that process restarts; it is not taken again meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import psycopg

from webhook.errors import NameTaken
from webhook.journal.postgres_batch import Connection

_TRY_LOCK = (
    "SELECT pg_try_advisory_lock(hashtextextended("
    "'tradehook.executor ' || COALESCE(current_schema(), '') || ' ' || %s, 0))"
)


class NameLocks:
    def __init__(self, connect: Callable[[], Awaitable[Connection]],
                 scrub: Callable[[str], str]) -> None:
        self._connect = connect
        self._scrub = scrub
        self._held: dict[str, Connection] = {}

    async def hold(self, owner: str) -> None:
        if owner in self._held:
            raise NameTaken(f"an executor named {owner!r} runs on this journal already")
        try:
            connection = await self._connect()
        except psycopg.Error as exc:
            raise self._cannot(owner, exc) from exc
        try:
            row = await (await connection.execute(_TRY_LOCK, (owner,))).fetchone()
        except psycopg.Error as exc:
            await connection.close()  # its session holds nothing: it must not stay open
            raise self._cannot(owner, exc) from exc
        if not (row and row[0]):
            await connection.close()
            raise NameTaken(
                f"another process runs an executor named {owner!r} on this journal: give each "
                "instance its own [execution] instance name, or stop the other one"
            )
        self._held[owner] = connection

    def _cannot(self, owner: str, exc: psycopg.Error) -> NameTaken:
        return NameTaken(f"cannot take the executor name {owner!r}: {self._scrub(str(exc))}")

    async def release(self, owner: str) -> None:
        connection = self._held.pop(owner, None)
        if connection is not None:
            await connection.close()

    async def release_all(self) -> None:
        for owner in list(self._held):
            await self.release(owner)
