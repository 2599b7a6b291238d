"""The PostgreSQL journal: several receivers and executors share one database.

The hot writes (receipts, attempts' starts and finishes) are group-committed: the writes of
all requests waiting at once go in one transaction, one round trip and one WAL flush
(`webhook.journal.postgres_batch`). The rest borrows a pooled connection of its own. A write
answers once its COMMIT has returned, that is once it is on disk: a server or role that sets
`synchronous_commit` to `off` is overruled for the journal's sessions. Lease times come from
the database's clock, the one clock every host shares.

As in the SQLite journal, a queued signal alone in its (plugin, symbol) is leased in the
transaction that stores it, and the transaction that records a signal's final status leases
the lane's next signal to the same executor (`webhook.journal.postgres_writes`).

Claims lock the heads they take with `FOR UPDATE SKIP LOCKED` and are also taken one at a time
(an advisory lock), so each claim sees every lease given before it. The head of a (plugin,
symbol) is the signal that holds a live lease, else the oldest pending one: a signal whose
insert committed after a younger one was claimed waits its turn instead of running alongside.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from plugins.orders import ExecutionResult, Order
from webhook.errors import ConfigError, JournalError
from webhook.journal.base import SignalJournal
from webhook.journal.period import FillRow, PeriodCount, count_query, fills_query, id_bounds
from webhook.journal.postgres_batch import Connection, GroupWriter
from webhook.journal.postgres_exits import PostgresExitPlans
from webhook.journal.postgres_names import NameLocks
from webhook.journal.postgres_schema import (
    CLAIM,
    LANE_ORDERS,
    NOW,
    PENDING_AMONG,
    PENDING_SQL,
    advisory_lock,
    attempts_of,
    migrate,
    storable,
)
from webhook.journal.postgres_url import parse_postgres_url
from webhook.journal.postgres_writes import (
    Finish,
    Finishes,
    Receipts,
    Start,
    Starts,
    insert_signals,
    withdraw_attempts,
)
from webhook.journal.records import (
    HandedOn,
    Lease,
    NewSignal,
    SignalRecord,
    SignalStatus,
    Stored,
    is_numbered_child,
)
from webhook.journal.rows import COLUMNS, listing_filters, record_from

logger = logging.getLogger("tradehook.journal")

CONNECTION_WAIT = 2.0
"""Seconds a request waits for a free pooled connection before the journal counts as down."""
HEALTH_WAIT = 2.0
OPEN_WAIT = 30.0
_RECEIPTS, _STARTS, _FINISHES = Receipts(), Starts(), Finishes()
_SETTLE_APPROVAL = (
    "UPDATE signals SET status = %(status)s, updated_at = %(at)s, "  # noqa: S608 - constant
    "reason = COALESCE(%(reason)s, reason), approved_at = %(approved)s "
    "WHERE id = %(id)s AND status = %(waiting)s AND approval_deadline > %(at)s "
    f"RETURNING {COLUMNS}"
)
_EXPIRE_APPROVALS = (
    "UPDATE signals SET status = %s, updated_at = %s, reason = %s "  # noqa: S608 - constant
    f"WHERE status = %s AND approval_deadline <= %s RETURNING {COLUMNS}"
)


class PostgresJournal(PostgresExitPlans, SignalJournal):
    """The journal for a `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL; its query
    may add `pool_size` (connections per process, default 10: one of them group-commits the
    hot writes, the others serve the rest; at least two) to libpq's own parameters."""

    hands_on = True

    def __init__(self, url: str) -> None:
        try:
            self._url = parse_postgres_url(url)
        except ValueError as exc:
            raise ConfigError(f"journal: {exc}") from exc
        self._pool: AsyncConnectionPool[Connection] | None = None
        self._writer: GroupWriter | None = None
        self._overrule_lazy_commit = False
        self._names = NameLocks(self._connect_writer, self._url.scrub)

    def __repr__(self) -> str:
        return f"PostgresJournal({self._url.redacted!r})"

    async def open(self) -> None:
        if self._pool is not None:
            return
        size = max(self._url.pool_size - 1, 1)  # the group writer has its own connection
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self._url.conninfo, min_size=size, max_size=size,
            kwargs={"autocommit": True}, configure=self._configure,
            check=AsyncConnectionPool.check_connection, name="tradehook-journal",
            timeout=CONNECTION_WAIT, open=False,
        )
        try:
            async with await psycopg.AsyncConnection.connect(
                self._url.conninfo, autocommit=True
            ) as connection:
                await migrate(connection)
                await self._check_durability(connection)
            await pool.open(wait=True, timeout=OPEN_WAIT)
            writer = GroupWriter(self._connect_writer, self._url.scrub)
            await writer.start()
        except psycopg.Error as exc:
            await pool.close()
            raise JournalError(
                f"cannot open the journal at {self._url.redacted}: {self._url.scrub(str(exc))}"
            ) from exc
        except BaseException:
            await pool.close()
            raise
        self._pool, self._writer = pool, writer

    async def _insert_signals(self, connection: Connection, signals: Sequence[NewSignal]
                              ) -> None:
        await insert_signals(connection, signals)

    async def close(self) -> None:
        await self._names.release_all()
        writer, self._writer = self._writer, None
        if writer is not None:
            await writer.stop()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def hold_name(self, owner: str) -> None:
        await self._names.hold(owner)

    async def release_name(self, owner: str) -> None:
        await self._names.release(owner)

    async def healthy(self) -> bool:
        if self._pool is None:
            return False
        try:
            async with self._pool.connection(timeout=HEALTH_WAIT) as connection:
                await connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    async def record(self, signal: NewSignal, children: Sequence[NewSignal] = ()) -> Stored:
        return await self._writes().write(_RECEIPTS, (signal, children))

    async def start_attempt(
        self, signal_id: str, started_at: float, *, owner: str | None = None
    ) -> int:
        return await self._writes().write(_STARTS, Start(signal_id, started_at, owner))

    async def finish_attempt(
        self,
        signal_id: str,
        number: int,
        *,
        outcome: str,
        status: SignalStatus,
        result: ExecutionResult | None = None,
        error: str | None = None,
        hand_on: Lease | None = None,
    ) -> HandedOn | None:
        return await self._writes().write(_FINISHES, Finish(
            signal_id, number, outcome, status, result, error, hand_on, at=time.time(),
        ))

    async def claim(
        self,
        owner: str,
        *,
        lease_seconds: float,
        limit: int,
        exclude_plugins: Collection[str] = (),
    ) -> list[SignalRecord]:
        values = {"owner": owner, "lease_seconds": lease_seconds, "limit": limit,
                  "excluded": sorted(exclude_plugins)}
        async with self._transaction() as connection:
            await advisory_lock(connection, "claim")
            rows = await (await connection.execute(CLAIM, values)).fetchall()
            rows.sort(key=lambda row: str(row[0]))  # RETURNING keeps no order
            attempts = await attempts_of(connection, [row[0] for row in rows])
        return [record_from(row, attempts.get(row[0], [])) for row in rows]

    async def renew(
        self, owner: str, signal_ids: Collection[str], *, lease_seconds: float
    ) -> set[str]:
        ids = set(signal_ids)
        if not ids:
            return set()
        async with self._connection() as connection:
            held = await (await connection.execute(
                f"UPDATE signals SET lease_until = {NOW} + %s "  # noqa: S608 - constant text
                "WHERE id = ANY(%s::text[]) AND lease_owner = %s RETURNING id",
                (lease_seconds, list(ids), owner),
            )).fetchall()
        return ids - {row[0] for row in held}

    async def release(self, owner: str, signal_ids: Collection[str]) -> None:
        if not signal_ids:
            return
        async with self._connection() as connection:
            await connection.execute(
                "UPDATE signals SET lease_owner = NULL, lease_until = NULL "
                "WHERE id = ANY(%s::text[]) AND lease_owner = %s",
                (list(signal_ids), owner),
            )

    async def release_all(self, owner: str) -> None:
        async with self._connection() as connection:
            await connection.execute(
                f"UPDATE signals SET lease_owner = NULL, lease_until = NULL "  # noqa: S608
                f"WHERE {PENDING_SQL} AND lease_owner = %s", (owner,))

    async def withdraw_attempts(self, unsent: Mapping[str, int]) -> None:
        if unsent:
            async with self._connection() as connection:
                await withdraw_attempts(connection, unsent)

    async def settle_approval(
        self, signal_id: str, status: SignalStatus, *, at: float, reason: str | None = None
    ) -> SignalRecord | None:
        values = {"id": storable(signal_id), "status": status.value, "at": at,
                  "reason": storable(reason), "waiting": SignalStatus.AWAITING_APPROVAL.value,
                  "approved": at if status is SignalStatus.QUEUED else None}
        async with self._connection() as connection:
            row = await (await connection.execute(
                _SETTLE_APPROVAL, values,
            )).fetchone()
        return None if row is None else record_from(row, [])

    async def expire_approvals(self, now: float, reason: str) -> list[SignalRecord]:
        async with self._connection() as connection:
            rows = await (await connection.execute(
                _EXPIRE_APPROVALS, (SignalStatus.EXPIRED.value, now, storable(reason),
                 SignalStatus.AWAITING_APPROVAL.value, now),
            )).fetchall()
        return [record_from(row, []) for row in rows]

    async def pending_orders(self, plugin: str, symbol: str) -> list[Order]:
        async with self._connection() as connection:
            rows = await (await connection.execute(
                LANE_ORDERS, (storable(plugin), storable(symbol)),
            )).fetchall()
        return [Order.model_validate_json(row[0]) for row in rows if row[0]]

    async def pending_among(self, signal_ids: Collection[str]) -> set[str]:
        if not signal_ids:
            return set()
        async with self._connection() as connection:
            rows = await (await connection.execute(
                PENDING_AMONG, ([storable(i) for i in signal_ids],),
            )).fetchall()
        return {row[0] for row in rows}

    async def get(self, signal_id: str) -> SignalRecord | None:
        async with self._connection() as connection:
            row = await (await connection.execute(
                f"SELECT {COLUMNS} FROM signals WHERE id = %s",  # noqa: S608 - constant columns
                (storable(signal_id),),
            )).fetchone()
            if row is None:
                return None
            rows = [row]
            if row[10] == SignalStatus.FANNED_OUT.value:  # the status column
                # LIKE, not a range: under a locale's collation `.` and `/` may sort apart.
                rows += [r for r in await (await connection.execute(
                    f"SELECT {COLUMNS} FROM signals WHERE id LIKE %s",  # noqa: S608 - constant
                    (f"{storable(signal_id)}.%",),
                )).fetchall() if is_numbered_child(row[0], r[0])]
            attempts = await attempts_of(connection, [r[0] for r in rows])
        parent, *children = [record_from(r, attempts.get(r[0], [])) for r in rows]
        if not children:
            return parent
        ordered = sorted(children, key=lambda child: int(child.id.rpartition(".")[2]))
        return parent.model_copy(update={"children": ordered})

    async def list_signals(
        self,
        *,
        status: SignalStatus | None = None,
        source: str | None = None,
        symbol: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[SignalRecord]:
        conditions, values = listing_filters(
            "%s", status=status, source=source, symbol=symbol, before=before
        )
        params = [storable(value) for value in values]
        query = (
            f"SELECT {COLUMNS} FROM signals WHERE {' AND '.join(conditions)} "  # noqa: S608
            "ORDER BY id DESC LIMIT %s"
        )
        async with self._connection() as connection:
            rows = await (await connection.execute(query, (*params, limit))).fetchall()
        return [record_from(row, []) for row in rows]

    async def period_counts(self, since: float | None, until: float | None
                            ) -> list[PeriodCount]:
        async with self._connection() as connection:
            rows = await (await connection.execute(
                count_query("%s"), id_bounds(since, until))).fetchall()
        return [PeriodCount(*row) for row in rows]

    async def period_fills(self, since: float | None, until: float | None, *, limit: int
                           ) -> list[FillRow]:
        async with self._connection() as connection:
            rows = await (await connection.execute(
                fills_query("%s"), (*id_bounds(since, until), limit))).fetchall()
        return [FillRow(*row) for row in rows]

    async def read_state(self, key: str) -> str | None:
        async with self._connection() as connection:
            row = await (await connection.execute(
                "SELECT value FROM state WHERE key = %s", (storable(key),)
            )).fetchone()
        return None if row is None else str(row[0])

    async def write_state(self, key: str, value: str) -> None:
        async with self._connection() as connection:
            await connection.execute(
                "INSERT INTO state (key, value, updated_at) VALUES (%s, %s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (storable(key), storable(value), time.time()),
            )

    def _writes(self) -> GroupWriter:
        if self._writer is None:
            raise JournalError("the journal is closed")
        return self._writer

    async def _connect_writer(self) -> Connection:
        """The group writer's own connection, set up as the pool's are."""
        connection = await psycopg.AsyncConnection.connect(self._url.conninfo, autocommit=True)
        await self._configure(connection)
        return connection

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        """A pooled connection in autocommit: each statement is durable when it returns."""
        if self._pool is None:
            raise JournalError("the journal is closed")
        try:
            async with self._pool.connection() as connection:
                yield connection
        except psycopg.Error as exc:
            raise JournalError(f"journal error: {self._url.scrub(str(exc))}") from exc

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection in a transaction, committed (durably) when the block ends."""
        async with self._connection() as connection, connection.transaction():
            yield connection

    async def _check_durability(self, connection: Connection) -> None:
        fsync, synchronous_commit = await _one(
            connection,
            "SELECT current_setting('fsync'), current_setting('synchronous_commit')",
        )
        if fsync == "off":
            logger.warning(
                "PostgreSQL at %s runs with fsync=off: a crash of its host can lose "
                "acknowledged signals", self._url.redacted,
            )
        self._overrule_lazy_commit = synchronous_commit == "off"

    async def _configure(self, connection: Connection) -> None:
        # psycopg prepares the hot statements, and PostgreSQL settles on a generic plan for a
        # prepared statement after five executions, "used for the remaining lifetime of the
        # prepared statement" (the PREPARE page). Chosen while the tables were still small,
        # it scanned them whole once they had grown (the duplicate-key lookup 2 ms instead of
        # 0.03 ms at 16,000 signals): every execution is planned for the tables as they are.
        await connection.execute("SET plan_cache_mode = force_custom_plan")
        if self._overrule_lazy_commit:
            await connection.execute("SET synchronous_commit = on")


async def _one(connection: Connection, query: str, params: Any = None) -> tuple[Any, ...]:
    row = await (await connection.execute(query, params)).fetchone()
    if row is None:
        raise JournalError(f"the journal answered nothing to {query.split()[0]}")
    return row
